// The login, kept for this browser tab only: sessionStorage, never localStorage or a cookie.

const KEY = "gatehouse.login";

/** ``{ authorization, me: { tenantId, username, permissions } }`` or null. */
export function loadLogin() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY));
    return saved?.authorization && saved?.me ? saved : null;
  } catch {
    return null;
  }
}

export function saveLogin(login) {
  sessionStorage.setItem(KEY, JSON.stringify(login));
}

export function forgetLogin() {
  sessionStorage.removeItem(KEY);
}

/** What the views ask of the logged-in user. */
export function sessionOf(me) {
  return {
    tenantId: me.tenantId,
    username: me.username,
    name: `${me.tenantId}/${me.username}`,
    can: (permission) => me.permissions.includes(permission),
  };
}
