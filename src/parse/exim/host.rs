//! Exim's host information: `name [ip]`, `(helo) [ip]`, `name (helo) [ip]`, `[ip]:port*`.

use memchr::{memchr, memmem};

use super::fields::{LOOKAHEAD, token_end};
use crate::model::event::Event;

pub(super) struct Host<'a> {
    pub(super) host: Option<&'a str>,
    pub(super) ip: Option<&'a str>,
    pub(super) end: usize,
}

#[inline]
fn is_port_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Reads Exim's host information starting at `i`. The host is the verified name, or the
/// HELO name when there is none; the IP is without brackets and port.
pub(super) fn host_at(s: &str, mut i: usize) -> Host<'_> {
    let b = s.as_bytes();
    let n = b.len();
    let (mut name, mut helo, mut ip) = (None, None, None);
    if i < n && b[i] != b'[' && b[i] != b'(' {
        let e = token_end(b, i);
        name = Some(&s[i..e]);
        i = e;
        if i + 1 < n && (b[i + 1] == b'(' || b[i + 1] == b'[') {
            i += 1;
        } else {
            return Host {
                host: name,
                ip: None,
                end: i,
            };
        }
    }
    if i < n && b[i] == b'(' {
        let window = &b[i..n.min(i + LOOKAHEAD)];
        let close = match memchr(b')', window) {
            Some(p) if b.get(i + p + 1) == Some(&b' ') || i + p + 1 == n => Some(i + p),
            Some(_) => memmem::find(window, b") [").map(|p| i + p),
            None => None,
        };
        match close {
            Some(c) => {
                helo = Some(&s[i + 1..c]);
                i = c + 1;
            }
            None => {
                let e = token_end(b, i);
                return Host {
                    host: name.or(Some(&s[i..e])),
                    ip: None,
                    end: e,
                };
            }
        }
        if i + 1 < n && b[i] == b' ' && b[i + 1] == b'[' {
            i += 1;
        }
    }
    if i < n
        && b[i] == b'['
        && let Some(p) = memchr(b']', &b[i..])
    {
        ip = Some(&s[i + 1..i + p]);
        i += p + 1;
        if i + 1 < n && b[i] == b':' && is_port_char(b[i + 1]) {
            i += 1;
            while i < n && is_port_char(b[i]) {
                i += 1;
            }
        }
        if i < n && b[i] == b'*' {
            i += 1;
        }
    }
    // A HELO is used as the host only when there is no verified name, and never when it is
    // empty or an address literal (`([192.0.2.1])`).
    Host {
        host: name.or(helo.filter(|h| !h.is_empty() && !h.starts_with('['))),
        ip,
        end: i,
    }
}

pub(super) fn set_host<'a>(ev: &mut Event<'a>, h: &Host<'a>) {
    if h.host.is_some() {
        ev.host = h.host;
    }
    if h.ip.is_some() {
        ev.ip = h.ip;
    }
}
