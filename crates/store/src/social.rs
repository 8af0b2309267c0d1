//! Social-media results: service reachability (facebook_messenger,
//! whatsapp, telegram, signal) and restricted pages/accounts.
