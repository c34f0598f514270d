//! What a partner may see today: records under the participant's active consent naming the
//! partner, between organizations with a data-sharing agreement in force. When the agreement
//! ends, sharing stops that day, whatever the consents say.

use iip_directory::PartnershipKind;
use iip_directory::partnership::in_force;
use iip_domain::Date;
use iip_store::{SharedRecord, Store};

use crate::{AppState, WebError, internal};

pub(crate) async fn shared_with<S: Store>(
    state: &AppState<S>,
    partner_org: &str,
) -> Result<Vec<SharedRecord>, WebError> {
    let today = Date::today();
    let mut shared = state.store.shared_with(partner_org, today).await.map_err(internal)?;
    if shared.is_empty() {
        return Ok(shared);
    }
    let agreements = state.store.partnerships().await.map_err(internal)?;
    shared.retain(|s| {
        in_force(
            &agreements,
            PartnershipKind::DataSharing,
            &s.owner_org_id,
            partner_org,
            today,
        )
    });
    Ok(shared)
}
