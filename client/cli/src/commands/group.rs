//! `parley group ...`: create a group, add or remove people, make admins, leave, list its
//! members.

use anyhow::Result;
use parley_client::{ConversationId, MemberInfo, Verification};
use serde_json::json;

use crate::args::GroupCommand;
use crate::context::Ctx;
use crate::failure::Failure;
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, print_lines, success};
use crate::sanitize::for_terminal;

/// Runs one group command.
pub(super) async fn run(command: GroupCommand, ctx: &Ctx) -> Result<()> {
    match command {
        GroupCommand::Create {
            name,
            members,
            retention,
        } => {
            let members = clean_handles(&members)?;
            // Opened before the handles are checked, so that a mistyped one can be matched
            // against the contacts.
            let client = ctx.open().await?;
            let created: Result<ConversationId> = async {
                let handles = crate::names::handles(&members)?;
                Ok(client.create_group(&name, &handles, retention).await?)
            }
            .await;
            let typed: Vec<Typed> = members.iter().map(|m| Typed::person(m)).collect();
            or_near_miss(created, &client, ctx.home(), &typed).await?;
            let disappearing = match retention.duration() {
                Some(_) => format!(
                    "; messages disappear after {}",
                    crate::message_view::retention_words(retention)
                ),
                None => String::new(),
            };
            success(&format!(
                "Created the group '{name}' with {}{disappearing}.",
                members.join(", ")
            ));
        }
        GroupCommand::Retention { name, retention } => {
            let client = ctx.open().await?;
            let changed: Result<()> = async {
                let group = crate::names::conversation(&client, &name).await?;
                Ok(client.set_retention(&group, retention).await?)
            }
            .await;
            let typed = [Typed::conversation(&name)];
            or_near_miss(changed, &client, ctx.home(), &typed).await?;
            success(&crate::commands::retention::changed_words(&name, retention));
        }
        GroupCommand::Add { name, handle } => {
            let client = ctx.open().await?;
            let added: Result<()> = async {
                let member = crate::names::handle(&handle)?;
                let group = crate::names::conversation(&client, &name).await?;
                Ok(client.add_member(&group, &member).await?)
            }
            .await;
            let typed = [Typed::conversation(&name), Typed::person(&handle)];
            or_near_miss(added, &client, ctx.home(), &typed).await?;
            success(&format!("Added {handle} to '{name}'."));
        }
        GroupCommand::Remove { name, handle } => {
            let client = ctx.open().await?;
            let removed: Result<()> = async {
                let member = crate::names::handle(&handle)?;
                let group = crate::names::conversation(&client, &name).await?;
                Ok(client.remove_member(&group, &member).await?)
            }
            .await;
            let typed = [Typed::conversation(&name), Typed::person(&handle)];
            or_near_miss(removed, &client, ctx.home(), &typed).await?;
            success(&format!(
                "Removed {handle} from '{name}'; they cannot read anything sent from now on."
            ));
        }
        GroupCommand::Promote { name, handle } => {
            let client = ctx.open().await?;
            let promoted: Result<()> = async {
                let member = crate::names::handle(&handle)?;
                let group = crate::names::conversation(&client, &name).await?;
                Ok(client.promote(&group, &member).await?)
            }
            .await;
            let typed = [Typed::conversation(&name), Typed::person(&handle)];
            or_near_miss(promoted, &client, ctx.home(), &typed).await?;
            success(&format!(
                "{handle} is now an admin of '{name}': they can add and remove people."
            ));
        }
        GroupCommand::Leave { name } => {
            let client = ctx.open().await?;
            let left: Result<()> = async {
                let group = crate::names::conversation(&client, &name).await?;
                Ok(client.leave_group(&group).await?)
            }
            .await;
            let typed = [Typed::conversation(&name)];
            or_near_miss(left, &client, ctx.home(), &typed).await?;
            success(&format!(
                "You left '{name}'; you will not receive what is sent there from now on."
            ));
        }
        GroupCommand::Recreate { name, without } => {
            let client = ctx.open().await?;
            let without: Vec<String> = without
                .iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect();
            let recreated: Result<ConversationId> = async {
                let left_out = crate::names::handles(&without)?;
                let group = crate::names::conversation(&client, &name).await?;
                Ok(client.recreate_group(&group, &left_out).await?)
            }
            .await;
            let mut typed = vec![Typed::conversation(&name)];
            typed.extend(without.iter().map(|h| Typed::person(h)));
            let fresh = or_near_miss(recreated, &client, ctx.home(), &typed).await?;
            let new_name = client
                .conversations()
                .await?
                .into_iter()
                .find(|c| c.id == fresh)
                .map_or_else(|| name.clone(), |c| c.name);
            let left_out = if without.is_empty() {
                String::new()
            } else {
                format!(" without {}", without.join(", "))
            };
            let old = if new_name == name {
                format!("; the old one is kept as '{name} (old)'")
            } else {
                String::new()
            };
            success(&format!(
                "Started '{}' to replace '{name}'{left_out}{old}.",
                for_terminal(&new_name)
            ));
        }
        GroupCommand::Members { name } => {
            let client = ctx.open().await?;
            let members: Result<Vec<MemberInfo>> = async {
                let id = crate::names::conversation(&client, &name).await?;
                Ok(client.members(&id).await?)
            }
            .await;
            let typed = [Typed::conversation(&name)];
            let members = or_near_miss(members, &client, ctx.home(), &typed).await?;
            if ctx.json() {
                let id = crate::names::conversation(&client, &name).await?;
                let admins = client.admins(&id).await?;
                for member in &members {
                    emit_json(&json!({
                        "handle": member.handle.as_str(),
                        "admin": admins.contains(&member.handle),
                        "status": member.status.to_string(),
                        "verified": member.status == Verification::Verified,
                        "identity_key": member.identity_key,
                    }))?;
                }
            } else {
                print_lines(members.iter().map(|m| for_terminal(m.handle.as_str())))?;
            }
        }
    }
    Ok(())
}

/// Accepts "bob, carol" as well as "bob,carol", drops empty entries and repeats.
fn clean_handles(raw: &[String]) -> Result<Vec<String>, Failure> {
    let mut handles: Vec<String> = Vec::new();
    for handle in raw.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
        if !handles.iter().any(|known| known == handle) {
            handles.push(handle.to_owned());
        }
    }
    if handles.is_empty() {
        return Err(Failure::new("the group needs at least one other member")
            .hint("list their handles separated by commas: --members bob,carol"));
    }
    Ok(handles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_trimmed_and_deduplicated() {
        let raw = vec![
            " bob".to_owned(),
            "carol ".to_owned(),
            String::new(),
            "bob".to_owned(),
        ];
        assert_eq!(clean_handles(&raw).unwrap(), vec!["bob", "carol"]);
    }

    #[test]
    fn no_members_is_refused() {
        assert!(clean_handles(&[" ".to_owned()]).is_err());
    }
}
