// The console's entry point: log in, show the pages, log out.

import { Api } from "./api.js";
import { loginView } from "./login.js";
import { forgetLogin, loadLogin, saveLogin, sessionOf } from "./session.js";
import { shell } from "./shell.js";

const root = document.getElementById("app");
let running = null;

function showLogin(message) {
  root.replaceChildren(
    loginView({
      message,
      onLoggedIn(login) {
        saveLogin(login);
        enter(login);
      },
    }),
  );
}

function enter(login) {
  const api = new Api(login.authorization, {
    onLoginLost: () => leave("Your login is no longer accepted. Log in again."),
  });
  running = shell(root, {
    api,
    session: sessionOf(login.me),
    onLogOut: () => leave(),
    // The tab keeps its login across a password change: remember the new one.
    onLoginChanged: () => saveLogin({ ...login, authorization: api.authorization }),
  });
}

function leave(message) {
  const stopping = running;
  running = null;
  stopping?.close();
  forgetLogin();
  history.replaceState(null, "", location.pathname);
  showLogin(message);
}

const saved = loadLogin();
if (saved) enter(saved);
else showLogin();
