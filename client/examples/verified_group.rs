//! Creates a group only from people whose safety number the user has confirmed, and prints
//! the group code for the room to compare: `verified_group NAME HANDLE...`. See `common.rs`
//! for the environment it reads.

mod common;

use std::error::Error;

use parley_client::{Handle, Verification};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or("usage: verified_group NAME HANDLE...")?;
    let members: Vec<Handle> = args.map(|h| h.parse()).collect::<Result<_, _>>()?;
    let client = common::open_from_env().await?;

    // Everyone must be a contact whose safety number was compared in person.
    let contacts = client.contacts().await?;
    for member in &members {
        let verified = contacts
            .iter()
            .any(|c| c.handle == *member && c.status == Verification::Verified);
        if !verified {
            return Err(format!(
                "{member} is not verified: compare safety numbers first (Client::verification, \
                 then Client::confirm_verified)"
            )
            .into());
        }
    }
    let group = client.create_group(&name, &members).await?;
    let code = client.group_code(&group).await?;
    println!(
        "group {} created with {} members",
        code.name,
        code.members.len()
    );
    for member in &code.members {
        println!("  {} {}", member.handle, member.status);
    }
    println!("group code (epoch {}): {}", code.epoch, code.grouped);
    Ok(())
}
