//! A signed-in consultation: opens it (dev sign-in, session, token, polling, room), keeps its
//! live objects, and ends it. The views call this module; it never calls them.

use std::rc::Rc;

use consult_client::{ClientOptions, ConsultClient, SessionGrant, SessionPoller, VideoSession};
use leptos::prelude::*;

use crate::dev_api::{self, DevUser};
use crate::json;
use crate::log::Kind;
use crate::polling::poll_status;
use crate::room::{RoomMember, join_room};
use crate::state::Screen;
use crate::time_format::duration;
use crate::token_watch::watch_token;

/// What the sign-in form asks for.
pub struct SignIn {
    /// Who signs in.
    pub user: DevUser,
    /// The session to open (created if it does not exist).
    pub session_id: String,
}

/// The live objects of a consultation (kept in a [`LiveSlot`]).
pub struct Live {
    client: ConsultClient,
    poller: SessionPoller,
    room: VideoSession,
}

/// Where the live consultation is kept (not `Send`: it holds the wasm client).
pub type LiveSlot = StoredValue<Option<Live>, LocalStorage>;

impl Live {
    /// Stops everything: polling, the room, the client's background work.
    fn stop(&self) {
        self.poller.stop();
        self.room.disconnect();
        self.client.dispose();
    }
}

/// Signs in through the dev endpoint and opens the consultation (token, polling, room), kept in
/// `slot` and shown; a refused refresh ends it. An error is a text for the person.
pub async fn sign_in(request: SignIn, screen: Screen, slot: LiveSlot) -> Result<(), String> {
    let live = open(request, screen, slot).await?;
    slot.set_value(Some(live));
    screen.signed_in.set(true);
    Ok(())
}

async fn open(request: SignIn, screen: Screen, slot: LiveSlot) -> Result<Live, String> {
    let log = screen.log;
    let user = &request.user;
    let grant = dev_api::mint_token(user).await?;
    let client =
        ConsultClient::new(ClientOptions::new(dev_api::origin())).map_err(|e| e.to_string())?;
    client
        .set_session(&SessionGrant {
            access_token: grant.access_token,
            expires_at: Some(grant.expires_at),
            expires_in: grant.expires_in,
        })
        .await
        .map_err(|e| e.to_string())?;
    log.add(
        Kind::Info,
        format!(
            "signed in as {} ({}), token for {}",
            user.user_id,
            user.role,
            duration(user.ttl_secs * 1000)
        ),
    );

    // Create the session, or read it if it exists: asking first would answer 404 for every new
    // session, an error in the browser's console on every first sign-in.
    let (status, room_id) = match dev_api::create_session(&request.session_id).await? {
        Some(created) => {
            log.add(
                Kind::Info,
                format!("created session {}", request.session_id),
            );
            (
                json::text(&created, "status"),
                json::text(&created, "room_id"),
            )
        }
        None => {
            let details = client.get_session_details(&request.session_id).await;
            let details = details.map_err(|e| e.to_string())?;
            (details.status_text, details.room_id)
        }
    };
    screen.session_id.set(request.session_id.clone());
    screen.session_status.set(status);

    watch_token(&client, screen, on_session_end(slot, screen));
    let poller = poll_status(&client, &request.session_id, screen);
    let member = RoomMember {
        session_id: &request.session_id,
        room_id: &room_id,
        user_id: &user.user_id,
        role: &user.role,
    };
    let room = join_room(&client, member, screen)?;
    Ok(Live {
        client,
        poller,
        room,
    })
}

/// Ends the consultation shown (if any) and returns to the sign-in form with `message`.
pub fn end_consultation(slot: LiveSlot, screen: Screen, message: String) {
    let live = slot.try_update_value(Option::take).flatten();
    if let Some(live) = live {
        live.stop();
    }
    screen.signed_in.set(false);
    screen.signin_message.set(message);
}

/// Signs out: the server revokes the sign-in, storage is cleared, the sign-in form returns.
pub async fn sign_out(slot: LiveSlot, screen: Screen) {
    let live = slot.try_update_value(Option::take).flatten();
    if let Some(live) = live {
        live.client.sign_out().await;
        live.stop();
    }
    end_consultation(
        slot,
        screen,
        String::from("Signed out: the sign-in was revoked on the server."),
    );
}

/// A callback for the client's `SessionExpired`: ends the consultation on the next tick (not
/// from inside the client's own event dispatch).
fn on_session_end(slot: LiveSlot, screen: Screen) -> Rc<dyn Fn(String)> {
    Rc::new(move |message: String| {
        leptos::task::spawn_local(async move { end_consultation(slot, screen, message) });
    })
}
