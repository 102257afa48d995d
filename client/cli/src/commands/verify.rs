//! `parley verify`: the safety number with one person, or the code of a whole group, shown
//! as digits and as a QR code to compare at the table; `--confirm` records a match.

use anyhow::Result;
use parley_client::{GroupCode, SafetyNumberView, Verification};

use crate::daemon::folder::Folder;
use serde_json::json;

use crate::args::VerifyArgs;
use crate::context::Ctx;
use crate::failure::{Failure, EXIT_USAGE};
use crate::home::shell_quote;
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, print_lines, to_stderr};
use crate::qr;
use crate::sanitize::for_terminal;

/// Groups of 5 digits per printed row: 3 rows of 4, easy to read out loud.
const GROUPS_PER_ROW: usize = 4;

/// Runs `parley verify HANDLE [--confirm]` or `parley verify --group NAME`.
pub(super) async fn run(args: VerifyArgs, ctx: &Ctx) -> Result<()> {
    match (args.handle, args.group) {
        (Some(handle), None) if args.confirm => confirm(&handle, ctx).await,
        (Some(handle), None) => person(&handle, ctx).await,
        (None, Some(group)) if !args.confirm => group_code(&group, ctx).await,
        // clap already refuses these combinations; kept total for safety.
        _ => Err(
            Failure::new("give either a handle, or --group NAME (without --confirm)")
                .hint(format!("{} verify --help", ctx.home().command()))
                .code(EXIT_USAGE)
                .into(),
        ),
    }
}

/// The safety number with the person `typed` names, or why there is none (with a "did you
/// mean" when the name is a near miss of a contact).
async fn verification(client: &Folder, typed: &str, ctx: &Ctx) -> Result<SafetyNumberView> {
    let view: Result<SafetyNumberView> = async {
        let handle = crate::names::handle(typed)?;
        Ok(client.verification(&handle).await?)
    }
    .await;
    or_near_miss(view, client, ctx.home(), &[Typed::person(typed)]).await
}

/// The 12 groups as 3 indented rows of 4.
fn rows(grouped: &str) -> Vec<String> {
    let groups: Vec<&str> = grouped.split(' ').collect();
    groups
        .chunks(GROUPS_PER_ROW)
        .map(|row| format!("    {}", row.join(" ")))
        .collect()
}

fn qr_lines(payload: &str) -> Vec<String> {
    match qr::render(payload) {
        Ok(code) => code.lines().map(str::to_owned).collect(),
        // The digits are what counts; a code that cannot be drawn is only mentioned.
        Err(e) => vec![format!("(no QR code: {e})")],
    }
}

fn safety_json(view: &SafetyNumberView) -> serde_json::Value {
    json!({
        "handle": view.handle.as_str(),
        "status": view.status.to_string(),
        "verified": view.status == Verification::Verified,
        "safety_number": view.grouped,
        "digits": view.digits,
    })
}

async fn person(handle: &str, ctx: &Ctx) -> Result<()> {
    // Opened before the handle is checked, so that a mistyped one can be matched against
    // the contacts.
    let client = ctx.open().await?;
    let view = verification(&client, handle, ctx).await?;
    if ctx.json() {
        return emit_json(&safety_json(&view));
    }
    let me = client.whoami().await?.handle;
    let cmd = ctx.home().command();
    let who = view.handle.to_string();
    let quoted = shell_quote(view.handle.as_str());
    let mut out = vec![
        format!("Safety number with {who} ({}):", view.status),
        String::new(),
    ];
    out.extend(rows(&view.grouped));
    out.push(String::new());
    out.extend(qr_lines(&qr::safety_number_payload(
        me.as_str(),
        view.handle.as_str(),
        &view.digits,
    )));
    out.push(String::new());
    match view.status {
        Verification::Verified => out.push(format!(
            "You have verified {who}. The number is unchanged since then; nothing to do."
        )),
        Verification::Changed => out.extend([
            format!(
                "{who}'s identity key has CHANGED. The number above is computed with the NEW key. \
                 Sending to {who} is blocked until you decide."
            ),
            format!(
                "Compare it with {who} in person or on a call (not through Parley), or scan \
                 each other's code. If it matches: {cmd} verify {quoted} --confirm"
            ),
            format!(
                "If you cannot compare now but trust the change: {cmd} contact accept-new-key \
                 {quoted}"
            ),
            "If they say their key did not change, do neither: someone may be impersonating \
             them."
                .to_owned(),
        ]),
        _ => out.extend([
            format!(
                "Compare these 60 digits with {who}'s screen in person or on a call (not \
                 through Parley), or scan each other's code: it is the same on both sides."
            ),
            format!("If every digit matches: {cmd} verify {quoted} --confirm"),
            "If any digit differs, do not confirm: someone may be impersonating one of you."
                .to_owned(),
        ]),
    }
    print_lines(out)?;
    Ok(())
}

async fn confirm(typed: &str, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    // The number being confirmed is shown again, so the record of what was compared is on
    // screen (and in the JSON) next to the confirmation.
    let before = verification(&client, typed, ctx).await?;
    let handle = before.handle.clone();
    client.confirm_verified(&handle).await?;
    let after = client.verification(&handle).await?;
    if ctx.json() {
        let mut value = safety_json(&after);
        value["key_was_changed"] = json!(before.status == Verification::Changed);
        return emit_json(&value);
    }
    let who = after.handle.to_string();
    let mut out = vec![format!("{who} is now verified.")];
    if before.status == Verification::Changed {
        out.push("Their new identity key replaces the old one.".to_owned());
        out.extend(super::contact::retired_note(&client, after.handle.as_str()).await);
    }
    out.push(format!("Confirmed safety number: {}", after.grouped));
    print_lines(out)?;
    if after.digits != before.digits {
        // The directory answered differently between the two look-ups: say so loudly.
        to_stderr(&format!(
            "warning: {who}'s key changed again while confirming; run `{} verify {}` and \
             compare once more",
            ctx.home().command(),
            shell_quote(after.handle.as_str())
        ));
    }
    Ok(())
}

fn group_json(code: &GroupCode) -> serde_json::Value {
    let members: Vec<serde_json::Value> = code
        .members
        .iter()
        .map(|m| {
            json!({
                "handle": m.handle.as_str(),
                "status": m.status.to_string(),
                "verified": m.status == Verification::Verified,
                "identity_key": m.identity_key,
            })
        })
        .collect();
    json!({
        "conversation": code.name,
        "epoch": code.epoch,
        "group_code": code.grouped,
        "digits": code.digits,
        "members": members,
    })
}

async fn group_code(group: &str, ctx: &Ctx) -> Result<()> {
    let client: Folder = ctx.open().await?;
    let code: Result<GroupCode> = async {
        let id = crate::names::conversation(&client, group).await?;
        Ok(client.group_code(&id).await?)
    }
    .await;
    let code = or_near_miss(code, &client, ctx.home(), &[Typed::conversation(group)]).await?;
    if ctx.json() {
        return emit_json(&group_json(&code));
    }
    let me = client.whoami().await?.handle;
    let cmd = ctx.home().command();
    let name = for_terminal(&code.name);
    let mut out = vec![
        format!("Group code for {name} (epoch {}):", code.epoch),
        String::new(),
    ];
    out.extend(rows(&code.grouped));
    out.push(String::new());
    out.extend(qr_lines(&qr::group_code_payload(code.epoch, &code.digits)));
    out.push(String::new());
    out.push(format!("Members ({}):", code.members.len()));
    let width = code
        .members
        .iter()
        .map(|m| m.handle.as_str().chars().count())
        .max()
        .unwrap_or(0);
    for m in &code.members {
        let you = if m.handle == me { "  (you)" } else { "" };
        out.push(format!(
            "  {:<width$}  {}{you}",
            m.handle.as_str(),
            m.status
        ));
    }
    out.push(String::new());
    let quoted = shell_quote(&code.name);
    out.extend([
        format!(
            "Everyone in the room runs `{cmd} read`, then `{cmd} verify --group {quoted}`, and \
             compares this code: the same code means everyone sees the same members with the \
             same keys."
        ),
        "A different epoch means someone is behind or ahead: they run `read` and compare again. \
         The same epoch with a different code means a member's key differs: stop and check."
            .to_owned(),
    ]);
    if code
        .members
        .iter()
        .any(|m| m.status == Verification::Changed)
    {
        out.push(format!(
            "A member's key CHANGED: compare safety numbers with them first: {cmd} verify HANDLE"
        ));
    }
    print_lines(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_groups_print_as_three_rows_of_four() {
        let grouped = (0..12)
            .map(|i| format!("{i:05}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            rows(&grouped),
            [
                "    00000 00001 00002 00003",
                "    00004 00005 00006 00007",
                "    00008 00009 00010 00011",
            ]
        );
    }
}
