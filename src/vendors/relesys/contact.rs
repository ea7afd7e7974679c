//! Contact details Relesys users and departments share: the phone number
//! object and the checks on it and on e-mail addresses (both user and
//! department records hold them, so neither module owns them).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneNumber {
    pub country_code: i32,
    pub number: String,
}

/// What is wrong with a phone number, as (pointer below it, message).
pub(super) fn phone_problems(phone: &PhoneNumber) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if !(1..=999).contains(&phone.country_code) {
        problems.push((
            "/countryCode".to_owned(),
            format!("{} is not a country calling code", phone.country_code),
        ));
    }
    if phone.number.is_empty() || !phone.number.bytes().all(|b| b.is_ascii_digit()) {
        problems.push((
            "/number".to_owned(),
            format!("'{}' is not a phone number (digits only)", phone.number),
        ));
    }
    problems
}

pub(super) fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}
