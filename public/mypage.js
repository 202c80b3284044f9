// MyPage's one script. It follows the identification's status over
// Server-Sent Events: when a wallet has fetched the request it turns the page
// into "continue in your wallet" (the same page a reload renders), and once the
// status is final it sends the customer back to the organisation. Without it
// the page works the same through its "Check status" link. Where the browser
// has the Digital Credentials API, it also offers the browser's own wallet
// chooser ("Use a wallet on this device").
(function () {
  "use strict";

  // "Go back" on pages that offer it, where the browser has somewhere to go
  // (the Navigation API knows; older browsers count the history).
  var back = document.querySelector("[data-back]");
  var canGoBack = window.navigation ? window.navigation.canGoBack : window.history.length > 1;
  if (back && canGoBack) {
    back.hidden = false;
    back.addEventListener("click", function () {
      window.history.back();
    });
  }

  // A desktop shows the QR code by style; this covers browsers that cannot
  // style a closed <details>.
  var qr = document.querySelector("details.qr-details");
  if (qr && window.matchMedia && window.matchMedia("(min-width: 48rem) and (pointer: fine)").matches) {
    qr.open = true;
  }

  // The Digital Credentials API, for signed OpenID4VP requests. While the
  // browser's sheet is open, and after it closed without an answer, the page
  // keeps its QR code and link: a "pending" event (our own request made the
  // identification pending) must not take them away.
  var deviceWallet = document.querySelector("[data-dc-api]");
  var keepWalletPanel = false;
  var source = null;

  function dcApiAvailable() {
    var dc = window.DigitalCredential;
    if (typeof dc === "undefined" || !navigator.credentials) return false;
    if (typeof dc.userAgentAllowsProtocol !== "function") return true;
    try {
      return dc.userAgentAllowsProtocol("openid4vp-v1-signed") === true;
    } catch (e) {
      return false;
    }
  }

  function postJson(url, body) {
    return window
      .fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      })
      .then(function (resp) {
        return resp.json().then(function (json) {
          if (!resp.ok) throw new Error(json && json.error ? json.error : "refused");
          return json;
        });
      });
  }

  if (deviceWallet && typeof window.fetch === "function" && dcApiAvailable()) {
    var base = deviceWallet.getAttribute("data-dc-api");
    var message = document.getElementById("device-wallet-message");
    var busy = false;
    deviceWallet.hidden = false;
    deviceWallet.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      keepWalletPanel = true;
      deviceWallet.setAttribute("aria-busy", "true");
      if (message) message.textContent = "";
      postJson(base + "/request", {})
        .then(function (body) {
          return navigator.credentials.get({
            mediation: "required",
            digital: { requests: [{ protocol: "openid4vp-v1-signed", data: { request: body.request } }] }
          });
        })
        .then(function (credential) {
          var data = credential && credential.data;
          var response = data && data.response !== undefined ? data.response : data;
          return postJson(base + "/response", { response: response });
        })
        .then(function (body) {
          if (!body.redirect_uri) throw new Error("no redirect_uri");
          if (source) source.close();
          window.location.assign(body.redirect_uri);
        })
        .catch(function (e) {
          busy = false;
          deviceWallet.removeAttribute("aria-busy");
          var closed = e && (e.name === "NotAllowedError" || e.name === "AbortError");
          if (message) message.textContent = deviceWallet.getAttribute(closed ? "data-msg-closed" : "data-msg-failed");
        });
    });
  }

  var main = document.querySelector("main[data-events-url]");
  if (!main || typeof window.EventSource !== "function") return;
  var line = document.getElementById("status-text");
  source = new window.EventSource(main.getAttribute("data-events-url"));

  // A form post (an outcome, Cancel) navigates by its own 303: stop listening
  // so the stream's redirect does not race it.
  document.addEventListener("submit", function () {
    source.close();
  });

  function showPending() {
    var wallet = document.getElementById("wallet");
    var focusWasInWallet = wallet && wallet.contains(document.activeElement);
    if (wallet) wallet.hidden = true;
    var parts = document.querySelectorAll(".pending-only");
    for (var i = 0; i < parts.length; i++) parts[i].hidden = false;
    var heading = document.getElementById("pending-heading");
    if (focusWasInWallet && heading) heading.focus();
  }

  source.addEventListener("status", function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    var keep = keepWalletPanel && data.statusName === "pending";
    if (!keep && main.getAttribute("data-status") !== data.statusName) {
      main.setAttribute("data-status", data.statusName);
      if (data.statusName === "pending") showPending();
      if (line) {
        line.setAttribute("data-status", data.statusName);
        if (data.final) {
          line.textContent = line.getAttribute("data-msg-final");
        } else if (data.statusName === "pending") {
          line.textContent = line.getAttribute("data-msg-pending");
        }
      }
    }
    if (data.final && data.redirectUrl) {
      source.close();
      window.location.assign(data.redirectUrl);
    }
  });
})();
