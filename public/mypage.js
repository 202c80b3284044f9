// MyPage's one script: follows the identification's status over Server-Sent
// Events and, once it is final, sends the customer back to the organisation.
// Without it the page works the same through its "Check status" link.
(function () {
  "use strict";
  var main = document.querySelector("main[data-events-url]");
  if (!main || typeof window.EventSource !== "function") return;
  var line = document.getElementById("status-text");
  var source = new window.EventSource(main.getAttribute("data-events-url"));

  // A form post (an outcome, Cancel) navigates by its own 303: stop listening
  // so the stream's redirect does not race it.
  document.addEventListener("submit", function () {
    source.close();
  });

  source.addEventListener("status", function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (line && line.getAttribute("data-status") !== data.statusName) {
      line.setAttribute("data-status", data.statusName);
      if (data.final) {
        line.textContent = line.getAttribute("data-msg-final");
      } else if (data.statusName === "pending") {
        line.textContent = line.getAttribute("data-msg-pending");
      }
    }
    if (data.final && data.redirectUrl) {
      source.close();
      window.location.assign(data.redirectUrl);
    }
  });
})();
