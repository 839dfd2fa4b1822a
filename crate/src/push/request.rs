//! The push login request, server to device (protocol §4).

use serde::{Deserialize, Serialize};

use super::canonical::Canonical;
use super::wire::{b64, check_number, check_text, check_token_id, check_version, check_window};
use super::{NUMBER_CHOICES, Nonce, Tag, purpose};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where the login comes from, as the server's IP geolocation guesses it (protocol §4).
///
/// Coordinates are integer micro-degrees, so that both sides MAC the same bytes whatever
/// their floating-point formatting. JSON: `{"city":"London","country":"GB","latE6":51514200,
/// "lonE6":-93000}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Place {
    /// The city, possibly empty.
    pub city: String,
    /// The country, such as an ISO 3166-1 alpha-2 code; possibly empty.
    pub country: String,
    /// Latitude in millionths of a degree, -90 000 000 to 90 000 000.
    pub lat_e6: i64,
    /// Longitude in millionths of a degree, -180 000 000 to 180 000 000.
    pub lon_e6: i64,
}

impl Place {
    fn check(&self) -> Result<()> {
        let rule = "city and country must be at most 256 bytes, no control or format characters";
        check_text(&self.city, rule)?;
        check_text(&self.country, rule)?;
        if !(-90_000_000..=90_000_000).contains(&self.lat_e6)
            || !(-180_000_000..=180_000_000).contains(&self.lon_e6)
        {
            return Err(Error::InvalidMessage("latE6 or lonE6 is out of range"));
        }
        Ok(())
    }
}

/// How the person gives the number of a request whose number is typed rather than picked
/// (protocol §4, "Number matching"). JSON: `"type"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberEntry {
    /// The person types the two-digit number the login page shows: the request carries no
    /// choices, so a blind guess is right once in 90 tries, not once in 3.
    Type,
}

impl NumberEntry {
    /// The name in JSON and in the MAC input.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Type => "type",
        }
    }
}

/// A push login request (protocol §4): someone is logging in with this token; approve?
///
/// The server fills the fields and calls [`sign`](Self::sign); the device calls
/// [`verify`](Self::verify) before showing anything. JSON field names are camelCase, binary
/// fields unpadded base64url, and unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushRequest {
    /// Protocol version: 2.
    pub v: u32,
    /// 16 random bytes naming the request; the device shows each id once.
    #[serde(with = "b64")]
    pub id: Nonce,
    /// The token asked to approve.
    pub token_id: String,
    /// The application being logged in to, such as `Demo Portal`.
    pub app: String,
    /// The web origin of the login page, such as `https://portal.example.com`.
    pub origin: String,
    /// The IP address the login came from, as text.
    pub client_ip: String,
    /// The geolocation of `client_ip`, if the server has one.
    #[serde(default)]
    pub place: Option<Place>,
    /// When the server created the request (Unix seconds).
    pub created_at: u64,
    /// From when the request can no longer be answered (Unix seconds).
    pub expires_at: u64,
    /// Number matching: the three numbers the device offers, one of them shown on the login
    /// page (see [`NumberMatch`](super::NumberMatch)); `None` without number matching.
    #[serde(default)]
    pub choices: Option<[u8; NUMBER_CHOICES]>,
    /// `Some(Type)`: the number the login page shows must be typed, and `choices` is `None`.
    /// Left out of the JSON when `None`, and then out of the tag too, so that a request
    /// without it has the tag it had before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_entry: Option<NumberEntry>,
    /// The commitment to the binding of the login page the push was started from
    /// ([`binding_hash`](super::binding_hash), §5 "Same-browser approvals"), when that page
    /// had one. Left out of the JSON, and of the tag, when `None`, as `number_entry` is.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::wire::b64_opt")]
    pub binding_hash: Option<Tag>,
    /// 16 random bytes, so that no two requests have the same tag input.
    #[serde(with = "b64")]
    pub nonce: Nonce,
    /// `mac(K_req, "push-request", …)`, set by [`sign`](Self::sign).
    #[serde(with = "b64")]
    pub tag: Tag,
}

impl PushRequest {
    /// The MAC input of `tag` (§4): `bytes(id), str(tokenId), str(app), str(origin),
    /// str(clientIp), opt(place), u64(createdAt), u64(expiresAt), opt(choices), bytes(nonce)`,
    /// with `place` as `str(city) || str(country) || i64(latE6) || i64(lonE6)` and `choices` as
    /// `u64(count) || u64(each)`; followed, only when `numberEntry` is present, by
    /// `str("numberEntry") || str(numberEntry)` (named, so that no field appended later the
    /// same way can pass for it), then, only when `bindingHash` is present, by
    /// `str("bindingHash") || bytes(bindingHash)`.
    #[must_use]
    pub fn canonical(&self) -> Canonical {
        let fields = self.canonical_fields();
        let fields = match self.number_entry {
            Some(entry) => fields.str("numberEntry").str(entry.name()),
            None => fields,
        };
        match &self.binding_hash {
            Some(hash) => fields.str("bindingHash").bytes(hash),
            None => fields,
        }
    }

    /// Whether `binding`, read from a login page, is the one this request's `bindingHash`
    /// commits to (§5, "Same-browser approvals"); never for a request without one.
    #[must_use]
    pub fn binding_matches(&self, binding: &super::PageBinding) -> bool {
        self.binding_hash
            .as_ref()
            .is_some_and(|hash| super::binding_matches(binding, &self.id, &self.token_id, hash))
    }

    /// The fields every request has in its MAC input, in order.
    fn canonical_fields(&self) -> Canonical {
        Canonical::new(purpose::PUSH_REQUEST)
            .bytes(&self.id)
            .str(&self.token_id)
            .str(&self.app)
            .str(&self.origin)
            .str(&self.client_ip)
            .opt(self.place.as_ref(), |c, place| {
                c.str(&place.city).str(&place.country).i64(place.lat_e6).i64(place.lon_e6)
            })
            .u64(self.created_at)
            .u64(self.expires_at)
            .opt(self.choices.as_ref(), |c, choices| {
                choices.iter().fold(c.u64(NUMBER_CHOICES as u64), |c, n| c.u64(u64::from(*n)))
            })
            .bytes(&self.nonce)
    }

    /// The server sets `tag` under the token's `K_req`. Fails like [`verify`](Self::verify)
    /// on fields that break the protocol's rules, so that no device is sent a request it
    /// would refuse.
    pub fn sign(&mut self, k_req: &Secret) -> Result<()> {
        self.check()?;
        self.tag = self.canonical().mac(k_req);
        Ok(())
    }

    /// The device's check before it shows the request (§4), in this order:
    /// [`Error::UnsupportedVersion`]; [`Error::InvalidMessage`] for a field that breaks a rule
    /// (lengths, control or format characters, coordinates, choices that are not three distinct
    /// numbers from 10 to 99, `createdAt` not before `expiresAt`); [`Error::BadTag`] when the tag
    /// does not verify under `K_req`; then, for an authentic request, [`Error::NotYetValid`]
    /// when `createdAt` is more than 30 s after `now` and [`Error::Expired`] from `expiresAt` on.
    ///
    /// The device must still refuse an `id` it has seen before and a `tokenId` it does not
    /// hold: that needs its storage.
    pub fn verify(&self, k_req: &Secret, now: u64) -> Result<()> {
        self.check()?;
        if !self.canonical().verify(k_req, &self.tag) {
            return Err(Error::BadTag);
        }
        check_window(self.created_at, self.expires_at, now)
    }

    /// The rule for the number of an approval of this request (§5): one of `choices` when it
    /// has them; a number from 10 to 99 when it asks for the number to be typed (the device
    /// cannot know the right one: only the server checks it); else none. A `bound` approval
    /// (one that carries the binding the request commits to) may leave the number out: the
    /// login page is open in front of the person. Fails with [`Error::InvalidMessage`].
    pub fn check_approval_number(&self, number: Option<u8>, bound: bool) -> Result<()> {
        match (self.choices, self.number_entry, number) {
            (_, _, None) if bound => Ok(()),
            (Some(choices), _, Some(n)) if choices.contains(&n) => Ok(()),
            (Some(_), _, _) => Err(Error::InvalidMessage("number must be one of the choices")),
            (None, Some(NumberEntry::Type), Some(n)) => check_number(n),
            (None, Some(NumberEntry::Type), None) => {
                Err(Error::InvalidMessage("the number must be typed"))
            }
            (None, None, None) => Ok(()),
            (None, None, Some(_)) => {
                Err(Error::InvalidMessage("number must be null without choices"))
            }
        }
    }

    fn check(&self) -> Result<()> {
        check_version(self.v)?;
        check_token_id(&self.token_id)?;
        if self.number_entry.is_some() && self.choices.is_some() {
            return Err(Error::InvalidMessage("a typed number comes without choices"));
        }
        let rule =
            "app, origin and clientIp must be at most 256 bytes, no control or format characters";
        for text in [&self.app, &self.origin, &self.client_ip] {
            check_text(text, rule)?;
        }
        if let Some(place) = &self.place {
            place.check()?;
        }
        if let Some(choices) = &self.choices {
            for n in choices {
                check_number(*n)?;
            }
            let [a, b, c] = *choices;
            if a == b || b == c || a == c {
                return Err(Error::InvalidMessage("choices must be distinct"));
            }
        }
        if self.created_at >= self.expires_at {
            return Err(Error::InvalidMessage("createdAt must be before expiresAt"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_req() -> Secret {
        Secret::from_bytes(vec![0x42; 32]).unwrap()
    }

    pub(crate) fn request() -> PushRequest {
        let mut request = PushRequest {
            v: 2,
            id: [1; 16],
            token_id: "tok_1".into(),
            app: "Demo Portal".into(),
            origin: "http://127.0.0.1:8080".into(),
            client_ip: "81.2.69.160".into(),
            place: Some(Place {
                city: "London".into(),
                country: "GB".into(),
                lat_e6: 51_514_200,
                lon_e6: -93_000,
            }),
            created_at: 1_764_000_000,
            expires_at: 1_764_000_120,
            choices: Some([37, 82, 15]),
            number_entry: None,
            binding_hash: None,
            nonce: [2; 16],
            tag: [0; 32],
        };
        request.sign(&k_req()).unwrap();
        request
    }

    /// The same request, asking for the number to be typed.
    fn typed() -> PushRequest {
        let mut typed = request();
        typed.choices = None;
        typed.number_entry = Some(NumberEntry::Type);
        typed.sign(&k_req()).unwrap();
        typed
    }

    #[test]
    fn a_binding_hash_is_in_the_json_and_covered_by_the_tag_only_when_present() {
        let binding = [0x5b; 16];
        let mut bound = request();
        let hash = crate::push::binding_hash(&binding, &bound.id, &bound.token_id).unwrap();
        bound.binding_hash = Some(hash);
        bound.sign(&k_req()).unwrap();
        let json = serde_json::to_string(&bound).unwrap();
        assert!(json.contains(r#""choices":[37,82,15],"bindingHash":""#), "{json}");
        let back: PushRequest = serde_json::from_str(&json).unwrap();
        back.verify(&k_req(), bound.created_at).unwrap();
        assert!(back.binding_matches(&binding));
        assert!(!back.binding_matches(&[0x5c; 16]));
        // Dropped or changed on the way, the tag fails; absent, the bytes are as before.
        for change in [None, Some([0; 32])] {
            let mut bad = back.clone();
            bad.binding_hash = change;
            assert_eq!(bad.verify(&k_req(), bound.created_at), Err(Error::BadTag));
        }
        let plain = request();
        assert!(!serde_json::to_string(&plain).unwrap().contains("bindingHash"));
        let mut named = plain.canonical().as_bytes().to_vec();
        named.extend_from_slice(&11u32.to_be_bytes());
        named.extend_from_slice(b"bindingHash");
        named.extend_from_slice(&32u32.to_be_bytes());
        named.extend_from_slice(&hash);
        assert_eq!(bound.canonical().as_bytes(), named);
        // With a number to type too, the binding comes after it.
        let mut both = typed();
        both.binding_hash = Some(hash);
        assert!(both.canonical().as_bytes().starts_with(typed().canonical().as_bytes()));
        // A bound approval may leave the number out; an unbound one may not.
        assert_eq!(back.check_approval_number(None, true), Ok(()));
        assert!(back.check_approval_number(None, false).is_err());
        assert!(back.check_approval_number(Some(38), true).is_err());
    }

    #[test]
    fn a_typed_number_is_asked_for_in_the_json_and_covered_by_the_tag() {
        let typed = typed();
        let json = serde_json::to_string(&typed).unwrap();
        assert!(json.contains(r#""choices":null,"numberEntry":"type","nonce""#), "{json}");
        let back: PushRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, typed);
        back.verify(&k_req(), typed.created_at).unwrap();
        // The field is appended, named, only when present: without it the bytes end at the
        // nonce, as they did before the field existed.
        let bare = typed.canonical_fields();
        let mut named = bare.as_bytes().to_vec();
        for part in ["numberEntry", "type"] {
            named.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            named.extend_from_slice(part.as_bytes());
        }
        assert_eq!(typed.canonical().as_bytes(), named);
        let mut without = typed.clone();
        without.number_entry = None;
        assert_eq!(without.canonical().as_bytes(), bare.as_bytes());
        // Dropping it, or adding it, breaks the tag: nobody on the way turns a typed number
        // into a request without one, nor the other way round.
        assert_eq!(without.verify(&k_req(), typed.created_at), Err(Error::BadTag));
        let mut plain = request();
        plain.choices = None;
        plain.sign(&k_req()).unwrap();
        plain.number_entry = Some(NumberEntry::Type);
        assert_eq!(plain.verify(&k_req(), typed.created_at), Err(Error::BadTag));
        // A request without it reads and writes as before: no `numberEntry` key at all.
        assert!(!serde_json::to_string(&request()).unwrap().contains("numberEntry"));
        for bad in [
            json.replace(r#""numberEntry":"type""#, r#""numberEntry":"choose""#),
            json.replace(r#""numberEntry":"type""#, r#""numberEntry":"Type""#),
            json.replace(r#""numberEntry":"type""#, r#""numberEntry":true"#),
        ] {
            assert!(serde_json::from_str::<PushRequest>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_typed_number_comes_without_choices() {
        let mut both = typed();
        both.choices = Some([37, 82, 15]);
        assert!(matches!(both.sign(&k_req()), Err(Error::InvalidMessage(_))));
        assert!(matches!(both.verify(&k_req(), both.created_at), Err(Error::InvalidMessage(_))));
    }

    #[test]
    fn the_number_of_an_approval_follows_the_request() {
        let picked = request();
        assert_eq!(picked.check_approval_number(Some(82), false), Ok(()));
        for bad in [None, Some(38), Some(5)] {
            assert!(matches!(
                picked.check_approval_number(bad, false),
                Err(Error::InvalidMessage(_))
            ));
        }
        let typed = typed();
        for n in [10, 37, 64, 99] {
            assert_eq!(typed.check_approval_number(Some(n), false), Ok(()), "{n}");
        }
        for bad in [None, Some(9), Some(100), Some(0)] {
            assert!(matches!(
                typed.check_approval_number(bad, false),
                Err(Error::InvalidMessage(_))
            ));
        }
        let mut none = request();
        none.choices = None;
        assert_eq!(none.check_approval_number(None, false), Ok(()));
        assert!(matches!(
            none.check_approval_number(Some(37), false),
            Err(Error::InvalidMessage(_))
        ));
    }

    #[test]
    fn json_round_trip() {
        let request = request();
        let json = serde_json::to_string(&request).unwrap();
        assert!(json.starts_with(
            r#"{"v":2,"id":"AQEBAQEBAQEBAQEBAQEBAQ","tokenId":"tok_1","app":"Demo Portal","origin":"http://127.0.0.1:8080","clientIp":"81.2.69.160","place":{"city":"London","country":"GB","latE6":51514200,"lonE6":-93000},"createdAt":1764000000,"expiresAt":1764000120,"choices":[37,82,15],"nonce":"AgICAgICAgICAgICAgICAg","tag":""#
        ), "{json}");
        let back: PushRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, request);
        back.verify(&k_req(), 1_764_000_000).unwrap();

        let mut bare = request.clone();
        bare.place = None;
        bare.choices = None;
        bare.sign(&k_req()).unwrap();
        let json = serde_json::to_string(&bare).unwrap();
        assert!(json.contains(r#""place":null"#) && json.contains(r#""choices":null"#));
        assert_eq!(serde_json::from_str::<PushRequest>(&json).unwrap(), bare);
        // Missing optional fields read as null.
        let json = json.replace(r#""place":null,"#, "").replace(r#""choices":null,"#, "");
        assert_eq!(serde_json::from_str::<PushRequest>(&json).unwrap(), bare);
        assert_ne!(bare.tag, request.tag);
    }

    #[test]
    fn every_failure_path() {
        let good = request();
        let now = good.created_at;
        assert_eq!(good.verify(&k_req(), now), Ok(()));
        let other_key = Secret::from_bytes(vec![0x43; 32]).unwrap();
        assert_eq!(good.verify(&other_key, now), Err(Error::BadTag));

        // Every field is covered by the tag.
        let changes: &[fn(&mut PushRequest)] = &[
            |r| r.tag[7] ^= 0x80,
            |r| r.id[0] ^= 1,
            |r| r.token_id = "tok_2".into(),
            |r| r.app.push('.'),
            |r| r.origin = "https://evil.example".into(),
            |r| r.client_ip = "10.0.0.1".into(),
            |r| r.place = None,
            |r| r.place.as_mut().unwrap().city = "Paris".into(),
            |r| r.place.as_mut().unwrap().country = "FR".into(),
            |r| r.place.as_mut().unwrap().lat_e6 += 1,
            |r| r.place.as_mut().unwrap().lon_e6 -= 1,
            |r| r.created_at -= 1,
            |r| r.expires_at += 1,
            |r| r.choices = None,
            |r| r.choices = Some([82, 37, 15]),
            |r| r.nonce[15] ^= 1,
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut bad = good.clone();
            change(&mut bad);
            assert_eq!(bad.verify(&k_req(), now), Err(Error::BadTag), "change {i}");
        }

        // Times, for an authentic request: 30 s of skew on createdAt, none on expiresAt.
        assert_eq!(good.verify(&k_req(), now - 30), Ok(()));
        assert_eq!(good.verify(&k_req(), now - 31), Err(Error::NotYetValid));
        assert_eq!(good.verify(&k_req(), good.expires_at - 1), Ok(()));
        assert_eq!(good.verify(&k_req(), good.expires_at), Err(Error::Expired));
        assert_eq!(good.verify(&k_req(), u64::MAX), Err(Error::Expired));
        // A forged request is a bad tag, whatever its times.
        let mut forged = good.clone();
        forged.tag = [0; 32];
        assert_eq!(forged.verify(&k_req(), 0), Err(Error::BadTag));

        let mut bad = good.clone();
        bad.v = 1;
        assert_eq!(bad.verify(&k_req(), now), Err(Error::UnsupportedVersion));
        assert_eq!(bad.sign(&k_req()), Err(Error::UnsupportedVersion));

        let invalid: &[fn(&mut PushRequest)] = &[
            |r| r.token_id = String::new(),
            |r| r.token_id = "tok 1".into(),
            |r| r.app = "a".repeat(257),
            |r| r.origin = "x\ny".into(),
            |r| r.client_ip = "\u{7f}".into(),
            |r| r.place.as_mut().unwrap().city = "c".repeat(10_000),
            |r| r.place.as_mut().unwrap().lat_e6 = 90_000_001,
            |r| r.place.as_mut().unwrap().lon_e6 = -180_000_001,
            |r| r.choices = Some([37, 37, 15]),
            |r| r.choices = Some([37, 15, 37]),
            |r| r.choices = Some([9, 37, 15]),
            |r| r.choices = Some([37, 100, 15]),
            |r| r.expires_at = r.created_at,
        ];
        for (i, change) in invalid.iter().enumerate() {
            let mut bad = good.clone();
            change(&mut bad);
            assert!(matches!(bad.verify(&k_req(), now), Err(Error::InvalidMessage(_))), "{i}");
            assert!(matches!(bad.sign(&k_req()), Err(Error::InvalidMessage(_))), "{i}");
        }
    }

    #[test]
    fn malformed_json_is_refused() {
        let json = serde_json::to_string(&request()).unwrap();
        let id = "AQEBAQEBAQEBAQEBAQEBAQ";
        let huge = format!(r#""app":"{}""#, "a".repeat(1 << 20));
        for bad in [
            json.replace(r#""v":2,"#, r#""v":2,"admin":true,"#),
            json.replace(r#""country":"GB","#, r#""country":"GB","alt":1,"#),
            json.replace(id, &id[1..]),
            json.replace(id, &format!("{id}A")),
            json.replace(id, &format!("{id}==")),
            json.replace(id, "AQEBAQEBAQEBAQEBAQEBAR"),
            json.replace(r#""nonce":"AgICAgICAgICAgICAgICAg""#, r#""nonce":"""#),
            json.replace(r#""nonce":"AgICAgICAgICAgICAgICAg""#, r#""nonce":null"#),
            json.replace("[37,82,15]", "[37,82]"),
            json.replace("[37,82,15]", "[37,82,15,16]"),
            json.replace("[37,82,15]", "[37,82,1500]"),
            json.replace("51514200", "51.5142"),
            json.replace(r#""v":2"#, r#""v":-1"#),
            json.replace(r#","tag":"#, r#","tag":"AA","x":"#),
        ] {
            assert!(serde_json::from_str::<PushRequest>(&bad).is_err(), "{bad}");
        }
        // A huge string parses (JSON has no limits) but never verifies.
        let bad: PushRequest =
            serde_json::from_str(&json.replace(r#""app":"Demo Portal""#, &huge)).unwrap();
        assert!(matches!(bad.verify(&k_req(), 1_764_000_000), Err(Error::InvalidMessage(_))));
    }
}
