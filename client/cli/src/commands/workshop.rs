//! `parley workshop ...` and `parley workshops`: create a workshop, show it, change its
//! roster and policies, export its record.

use std::io::Write;

use anyhow::Result;
use parley_client::{
    Attribution, Handle, Role, RosterEdit, Side, Verification, Workshop, WorkshopPlan,
};
use serde_json::json;

use crate::args::WorkshopCommand;
use crate::context::Ctx;
use crate::failure::Failure;
use crate::output::{emit_json, print_lines, success};
use crate::sanitize::for_terminal;
use crate::workshop_names::workshop_room;

/// Runs one workshop command.
pub(super) async fn run(command: WorkshopCommand, ctx: &Ctx) -> Result<()> {
    match command {
        WorkshopCommand::Create {
            name,
            facilitators,
            sides,
            observers,
            attribution,
            retention,
        } => {
            let plan = WorkshopPlan::new(handles(&facilitators)?, parse_sides(&sides)?)
                .observers(handles(&observers)?)
                .attribution(attribution_of(&attribution)?)
                .retention(retention);
            let client = ctx.open().await?;
            client.create_workshop(&name, &plan).await?;
            let rooms: Vec<String> = std::iter::once(format!("{name} (plenary)"))
                .chain(std::iter::once(format!("{name}:facilitators")))
                .chain(plan.sides.iter().map(|(side, _)| format!("{name}:{side}")))
                .collect();
            success(&format!(
                "Created the workshop '{name}' with the rooms {}; attribution in the plenary: {}.",
                rooms.join(", "),
                plan.attribution
            ));
        }
        WorkshopCommand::Show { name } => {
            let client = ctx.open().await?;
            crate::commands::text::refresh(&client).await;
            let room = workshop_room(&client, ctx.home(), &name).await?;
            let workshop = client.workshop(&room).await?;
            if ctx.json() {
                emit_json(&workshop_json(&workshop))?;
            } else {
                print_lines(show_lines(&workshop))?;
            }
        }
        WorkshopCommand::Add { name, handle, role } => {
            let edit = RosterEdit::Add {
                handle: person(&handle)?,
                role: role_of(&role)?,
            };
            change(ctx, &name, &edit).await?;
            success(&format!(
                "Added {handle} to '{name}' as {role}; every room they belong in was told."
            ));
        }
        WorkshopCommand::Remove { name, handle } => {
            let edit = RosterEdit::Remove {
                handle: person(&handle)?,
            };
            change(ctx, &name, &edit).await?;
            success(&format!(
                "Took {handle} out of every room of '{name}'; they cannot read anything sent from now on."
            ));
        }
        WorkshopCommand::Move { name, handle, side } => {
            let side = Side::parse(&side).map_err(|e| Failure::new(format!("{e}")))?;
            let edit = RosterEdit::SetRole {
                handle: person(&handle)?,
                role: Role::Side(side.clone()),
            };
            change(ctx, &name, &edit).await?;
            success(&format!(
                "Moved {handle} to the side {side} in '{name}'; every room was told."
            ));
        }
        WorkshopCommand::Role { name, handle, role } => {
            let edit = RosterEdit::SetRole {
                handle: person(&handle)?,
                role: role_of(&role)?,
            };
            change(ctx, &name, &edit).await?;
            success(&format!(
                "{handle} is now {role} in '{name}'; every room was told."
            ));
        }
        WorkshopCommand::Attribution { name, policy } => {
            let edit = RosterEdit::Attribution(attribution_of(&policy)?);
            change(ctx, &name, &edit).await?;
            success(&format!(
                "The plenary of '{name}' now shows who said what by {policy}; every room was told."
            ));
        }
        WorkshopCommand::Export { name, out } => {
            // Refused before anything is announced: an existing file is never overwritten.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .map_err(|e| {
                    Failure::new(format!(
                        "cannot write the record to {}: {}",
                        out.display(),
                        crate::failure::io_reason(&e)
                    ))
                    .hint("give a file name that does not exist yet with --out")
                })?;
            let client = ctx.open().await?;
            let room = workshop_room(&client, ctx.home(), &name).await;
            let record = match room {
                Ok(room) => client
                    .export_workshop(&room)
                    .await
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e),
            };
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    drop(file);
                    let _ = std::fs::remove_file(&out);
                    return Err(e);
                }
            };
            file.write_all(record.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| {
                    Failure::new(format!(
                        "writing the record to {} failed: {}",
                        out.display(),
                        crate::failure::io_reason(&e)
                    ))
                })?;
            success(&format!(
                "Wrote the record of '{name}' to {}; the room was told that a facilitator exported it.",
                out.display()
            ));
        }
    }
    Ok(())
}

/// `parley workshops`: one line per workshop.
pub(super) async fn list(ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    crate::commands::text::refresh(&client).await;
    let workshops = client.workshops().await?;
    if ctx.json() {
        for workshop in &workshops {
            emit_json(&workshop_json(workshop))?;
        }
        return Ok(());
    }
    if workshops.is_empty() {
        crate::output::note("You are in no workshop yet.");
    }
    print_lines(workshops.iter().map(|w| {
        let text = match w.text_version {
            Some(n) => format!("text version {n}"),
            None => "no text yet".to_owned(),
        };
        format!(
            "{}  you: {}  {} people  {}",
            for_terminal(&w.name),
            w.my_role,
            w.roster.len(),
            text
        )
    }))?;
    Ok(())
}

/// Makes a change to the workshop `name` names.
async fn change(ctx: &Ctx, name: &str, edit: &RosterEdit) -> Result<()> {
    let client = ctx.open().await?;
    let room = workshop_room(&client, ctx.home(), name).await?;
    client.change_workshop(&room, edit).await?;
    Ok(())
}

/// What `workshop show` prints.
fn show_lines(workshop: &Workshop) -> Vec<String> {
    let mut lines = vec![
        format!("Workshop {}", for_terminal(&workshop.name)),
        format!("Your role: {}", workshop.my_role),
        format!("Attribution in the plenary: {}", workshop.attribution),
        format!(
            "  {}",
            parley_client::attribution_promise(workshop.attribution)
        ),
        format!(
            "Retention: {}",
            crate::message_view::retention_words(workshop.retention)
        ),
        match workshop.text_version {
            Some(n) => format!(
                "Negotiating text: version {n} (parley text show {})",
                for_terminal(&workshop.name)
            ),
            None => "Negotiating text: none published yet".to_owned(),
        },
        String::new(),
        "Rooms:".to_owned(),
    ];
    for room in &workshop.rooms {
        lines.push(match &room.name {
            Some(name) => format!(
                "  {:<16} {}  ({} in it)",
                room.room.to_string(),
                for_terminal(name),
                room.members.len()
            ),
            None => format!("  {:<16} (you are not in it)", room.room.to_string()),
        });
    }
    let mut groups: Vec<(String, Role)> = vec![("Facilitators".to_owned(), Role::Facilitator)];
    groups.extend(
        workshop
            .sides
            .iter()
            .map(|side| (format!("Side {side}"), Role::Side(side.clone()))),
    );
    groups.push(("Observers".to_owned(), Role::Observer));
    for (title, role) in groups {
        let people: Vec<_> = workshop.roster.iter().filter(|p| p.role == role).collect();
        if people.is_empty() && role == Role::Observer {
            continue;
        }
        lines.push(String::new());
        lines.push(format!("{title}:"));
        if people.is_empty() {
            lines.push("  (nobody)".to_owned());
        }
        for p in people {
            let absent = if p.present {
                ""
            } else {
                "  (not in the plenary)"
            };
            lines.push(format!("  {:<20} {}{absent}", p.handle.as_str(), p.status));
        }
    }
    if !workshop.problems.is_empty() {
        lines.push(String::new());
        lines.push("Problems:".to_owned());
        lines.extend(workshop.problems.iter().map(|p| format!("  {p}")));
    }
    lines
}

/// A workshop as one JSON object.
fn workshop_json(workshop: &Workshop) -> serde_json::Value {
    json!({
        "workshop": workshop.name,
        "my_role": workshop.my_role.to_string(),
        "attribution": workshop.attribution.as_str(),
        "retention": workshop.retention.to_string(),
        "text_version": workshop.text_version,
        "rooms": workshop.rooms.iter().map(|r| json!({
            "room": r.room.to_string(),
            "name": r.name,
            "members": r.members.iter().map(Handle::as_str).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "roster": workshop.roster.iter().map(|p| json!({
            "handle": p.handle.as_str(),
            "role": p.role.to_string(),
            "status": p.status.to_string(),
            "verified": p.status == Verification::Verified,
            "present": p.present,
        })).collect::<Vec<_>>(),
        "problems": workshop.problems,
    })
}

fn person(text: &str) -> Result<Handle, Failure> {
    crate::names::handle(text).map_err(|e| Failure::new(e.to_string()))
}

fn handles(list: &[String]) -> Result<Vec<Handle>> {
    let clean: Vec<String> = list
        .iter()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    Ok(crate::names::handles(&clean)?)
}

/// `north:carol,dave` as a side and its participants.
fn parse_sides(raw: &[String]) -> Result<Vec<(Side, Vec<Handle>)>> {
    let mut sides = Vec::with_capacity(raw.len());
    for text in raw {
        let Some((name, people)) = text.split_once(':') else {
            return Err(Failure::new(format!("--side {text} does not say who is on the side"))
                .hint("write a side as its name, a colon and its handles: --side north:carol,dave")
                .into());
        };
        let side = Side::parse(name.trim()).map_err(|e| {
            Failure::new(format!("\"{}\" cannot be a side's name: {e}", name.trim()))
                .hint("use 1 to 24 characters from a-z, 0-9 and '-', starting with a letter")
        })?;
        let people: Vec<String> = people.split(',').map(str::to_owned).collect();
        sides.push((side, handles(&people)?));
    }
    Ok(sides)
}

fn role_of(text: &str) -> Result<Role, Failure> {
    Role::parse(text).map_err(|_| {
        Failure::new(format!("\"{text}\" is not a role"))
            .hint("a role is facilitator, observer, or the name of one of the workshop's sides")
    })
}

fn attribution_of(text: &str) -> Result<Attribution, Failure> {
    Attribution::parse(text).map_err(|_| {
        Failure::new(format!("\"{text}\" is not an attribution policy"))
            .hint("use person, side or none")
    })
}
