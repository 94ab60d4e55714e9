//! The alias and its first index. Every reader and writer goes through the alias (a
//! runtime setting, [`super::ALIAS`] by default, so tests and side-by-side deployments can
//! have their own); on a first start it does not exist yet, and the projector creates
//! `<alias>-v1` with the alias in the same request, so no instance ever sees one without
//! the other. Two instances starting together race on that request: the loser gets
//! `resource_already_exists_exception` and finds the winner's alias.

use elasticsearch::indices::{IndicesCreateParts, IndicesExistsAliasParts};
use serde_json::{json, Value};

use super::client::SearchClient;
use super::index_body;

/// `<alias>-v<generation>`: the index a first start or a rebuild creates.
pub fn index_for(alias: &str, generation: u32) -> String {
    format!("{alias}-v{generation}")
}

/// Index settings of a first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexLayout {
    pub shards: u32,
    pub replicas: u32,
}

impl Default for IndexLayout {
    fn default() -> Self {
        // One node on the stack; a cluster with more nodes wants replicas.
        Self {
            shards: 1,
            replicas: 0,
        }
    }
}

async fn alias_exists(client: &SearchClient, alias: &str) -> Result<bool, String> {
    let response = client
        .es()
        .indices()
        .exists_alias(IndicesExistsAliasParts::Name(&[alias]))
        .send()
        .await
        .map_err(|e| format!("asking for alias {alias}: {e}"))?;
    match response.status_code().as_u16() {
        200 => Ok(true),
        404 => Ok(false),
        status => Err(format!("asking for alias {alias}: HTTP {status}")),
    }
}

/// Makes sure `alias` exists; creates `<alias>-v1` behind it when it does not. Returns
/// the index it created, if it did.
pub async fn ensure_alias(
    client: &SearchClient,
    alias: &str,
    layout: IndexLayout,
) -> Result<Option<String>, String> {
    if alias_exists(client, alias).await? {
        return Ok(None);
    }
    let index = index_for(alias, 1);
    let mut body = index_body(layout.shards, layout.replicas);
    body["aliases"] = json!({ alias: {} });
    let response = client
        .es()
        .indices()
        .create(IndicesCreateParts::Index(&index))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("creating index {index}: {e}"))?;
    let status = response.status_code();
    if status.is_success() {
        tracing::info!(%index, %alias, "search index created");
        return Ok(Some(index));
    }
    let answer: Value = response.json().await.unwrap_or_default();
    if answer["error"]["type"] != "resource_already_exists_exception" {
        return Err(format!(
            "creating index {index}: HTTP {status}: {}",
            answer["error"]
        ));
    }
    // Another instance won the race (the alias came with its index), or an earlier start
    // left the index without its alias: adding it again is harmless.
    if !alias_exists(client, alias).await? {
        let actions = json!({ "actions": [{ "add": { "index": index, "alias": alias } }] });
        let response = client
            .es()
            .indices()
            .update_aliases()
            .body(actions)
            .send()
            .await
            .map_err(|e| format!("adding alias {alias} to {index}: {e}"))?;
        if !response.status_code().is_success() {
            return Err(format!(
                "adding alias {alias} to {index}: HTTP {}",
                response.status_code()
            ));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_index_is_named_after_its_alias() {
        assert_eq!(
            index_for(super::super::ALIAS, 1),
            super::super::index_name(1)
        );
        assert_eq!(index_for("t123-orders", 2), "t123-orders-v2");
    }
}
