// The dashboard's one script, and all it does: a "Copy" button beside a
// secret the page shows once (a new API key, the webhook signing secret).
// Every page works without it; the button stays hidden then, and the secret
// is selected and copied by hand.
(function () {
  "use strict";

  // The Clipboard API exists only on secure origins (https, or loopback).
  if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") return;

  var sections = document.querySelectorAll("[data-copy-secret]");
  Array.prototype.forEach.call(sections, function (section) {
    var secret = section.querySelector("code.secret");
    var button = section.querySelector("button.copy");
    var feedback = section.querySelector(".copy-feedback");
    if (!secret || !button || !feedback) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(secret.textContent.trim()).then(
        function () {
          button.textContent = "Copied";
          feedback.textContent = "Copied to the clipboard.";
        },
        function () {
          button.textContent = "Copy";
          feedback.textContent = "Could not copy: select the secret and copy it yourself.";
        }
      );
    });
  });
})();
