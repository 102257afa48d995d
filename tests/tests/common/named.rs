//! The client as a person drives it: conversations and people by the names people type,
//! each resolved by the library's one rule (`Client::resolve`). Test scenarios read like
//! what their people do.

use parley_client::{
    Client, ClientError, ConversationId, GroupCode, Handle, MemberInfo, Message, SafetyNumberView,
    WhoAmI,
};

/// A handle from test text.
pub(crate) fn handle(text: &str) -> Handle {
    text.parse().unwrap()
}

/// Handles from test text.
pub(crate) fn handles(list: &[String]) -> Vec<Handle> {
    list.iter().map(|h| handle(h)).collect()
}

/// The client's calls by typed names.
#[allow(async_fn_in_trait)]
pub(crate) trait Named {
    /// The conversation `name` means.
    async fn id(&self, name: &str) -> Result<ConversationId, ClientError>;
    /// Registers `name`.
    async fn register_as(&self, name: &str) -> Result<WhoAmI, ClientError>;
    /// Sends `text` to the conversation `to` names.
    async fn say(&self, to: &str, text: &str) -> Result<Message, ClientError>;
    /// Creates the group `name` with these members.
    async fn create(&self, name: &str, members: &[String]) -> Result<ConversationId, ClientError>;
    /// Adds a person to a group.
    async fn add(&self, group: &str, who: &str) -> Result<(), ClientError>;
    /// Removes a person from a group.
    async fn remove(&self, group: &str, who: &str) -> Result<(), ClientError>;
    /// Makes a member of a group an admin too.
    async fn make_admin(&self, group: &str, who: &str) -> Result<(), ClientError>;
    /// The members of a conversation.
    async fn members_of(&self, name: &str) -> Result<Vec<MemberInfo>, ClientError>;
    /// The history of a conversation.
    async fn history_of(
        &self,
        name: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError>;
    /// The group code of a conversation.
    async fn code_of(&self, name: &str) -> Result<GroupCode, ClientError>;
    /// A full sync's new entries.
    async fn fetch(&self) -> Result<Vec<Message>, ClientError>;
    /// The safety number with a person.
    async fn safety_with(&self, who: &str) -> Result<String, ClientError>;
    /// The safety number view of a person.
    async fn verification_of(&self, who: &str) -> Result<SafetyNumberView, ClientError>;
    /// Accepts a person's changed key.
    async fn accept_key_of(&self, who: &str) -> Result<(), ClientError>;
    /// Confirms a person after comparing numbers.
    async fn confirm(&self, who: &str) -> Result<(), ClientError>;
    /// The alerts, in words.
    async fn alert_texts(&self) -> Result<Vec<String>, ClientError>;
}

fn person(text: &str) -> Result<Handle, ClientError> {
    text.parse()
        .map_err(|_| ClientError::InvalidHandle(text.to_owned()))
}

impl Named for Client {
    async fn id(&self, name: &str) -> Result<ConversationId, ClientError> {
        self.resolve(name).await
    }

    async fn register_as(&self, name: &str) -> Result<WhoAmI, ClientError> {
        self.register(&person(name)?).await
    }

    async fn say(&self, to: &str, text: &str) -> Result<Message, ClientError> {
        let to = self.resolve(to).await?;
        self.send_text(&to, text).await
    }

    async fn create(&self, name: &str, members: &[String]) -> Result<ConversationId, ClientError> {
        let members: Vec<Handle> = members
            .iter()
            .map(|m| person(m))
            .collect::<Result<_, _>>()?;
        self.create_group(name, &members).await
    }

    async fn add(&self, group: &str, who: &str) -> Result<(), ClientError> {
        let group = self.resolve(group).await?;
        self.add_member(&group, &person(who)?).await
    }

    async fn remove(&self, group: &str, who: &str) -> Result<(), ClientError> {
        let group = self.resolve(group).await?;
        self.remove_member(&group, &person(who)?).await
    }

    async fn make_admin(&self, group: &str, who: &str) -> Result<(), ClientError> {
        let group = self.resolve(group).await?;
        self.promote(&group, &person(who)?).await
    }

    async fn members_of(&self, name: &str) -> Result<Vec<MemberInfo>, ClientError> {
        self.members(&self.resolve(name).await?).await
    }

    async fn history_of(
        &self,
        name: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError> {
        self.history(&self.resolve(name).await?, limit).await
    }

    async fn code_of(&self, name: &str) -> Result<GroupCode, ClientError> {
        self.group_code(&self.resolve(name).await?).await
    }

    async fn fetch(&self) -> Result<Vec<Message>, ClientError> {
        Ok(self.sync().await?.messages)
    }

    async fn safety_with(&self, who: &str) -> Result<String, ClientError> {
        self.safety_number(&person(who)?).await
    }

    async fn verification_of(&self, who: &str) -> Result<SafetyNumberView, ClientError> {
        self.verification(&person(who)?).await
    }

    async fn accept_key_of(&self, who: &str) -> Result<(), ClientError> {
        self.accept_new_key(&person(who)?).await
    }

    async fn confirm(&self, who: &str) -> Result<(), ClientError> {
        self.confirm_verified(&person(who)?).await
    }

    async fn alert_texts(&self) -> Result<Vec<String>, ClientError> {
        Ok(self
            .alerts()
            .await?
            .iter()
            .map(ToString::to_string)
            .collect())
    }
}
