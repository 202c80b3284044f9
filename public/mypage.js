// MyPage's one script. It follows the identification's status over
// Server-Sent Events: when a wallet has fetched the request it turns the page
// into "continue in your wallet" (the same page a reload renders), and once the
// status is final it sends the customer back to the organisation. Without it
// the page works the same through its "Check status" link.
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

  var main = document.querySelector("main[data-events-url]");
  if (!main || typeof window.EventSource !== "function") return;
  var line = document.getElementById("status-text");
  var source = new window.EventSource(main.getAttribute("data-events-url"));

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
    if (main.getAttribute("data-status") !== data.statusName) {
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
