// The share window: filter the directory, fetch the chosen organization's extra fields,
// and keep a second click from sending the form twice (the server is idempotent anyway).
// The done page of a link share: copy the link to the clipboard.
(function () {
  "use strict";

  function shareWindow(form) {
    var search = document.getElementById("recipient-search");
    var options = Array.prototype.slice.call(document.querySelectorAll(".recipient-option"));
    if (search) {
      search.addEventListener("input", function () {
        var needle = search.value.trim().toLocaleLowerCase();
        options.forEach(function (option) {
          option.hidden = needle !== "" && option.dataset.search.indexOf(needle) === -1;
        });
      });
      // Enter in the search box picks the first match instead of submitting the form.
      search.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        event.preventDefault();
        var first = options.find(function (option) { return !option.hidden; });
        if (first) { first.querySelector("input").click(); first.querySelector("input").focus(); }
      });
    }

    var extra = document.getElementById("extra-fields");
    function showFieldsOf(recipient) {
      var url = extra.dataset.url + "?recipient=" + encodeURIComponent(recipient);
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { extra.innerHTML = html; });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name !== "recipient" || !extra) { return; }
      showFieldsOf(event.target.value);
    });
    // A recipient chosen before this script ran (a quick click while the page loaded, or a
    // form the browser restored on "Back") has its fields fetched now.
    var checked = form.querySelector("input[name=recipient]:checked");
    if (extra && checked && extra.textContent.trim() === "") { showFieldsOf(checked.value); }

    var submitted = false;
    form.addEventListener("submit", function (event) {
      if (submitted) { event.preventDefault(); return; }
      submitted = true;
      document.getElementById("share-submit").setAttribute("aria-disabled", "true");
    });
  }

  // The button shows only with this script; without it (or when the clipboard refuses), the
  // read-only input still holds the link, selected on focus, to copy by hand.
  function copyLink(button) {
    var input = document.getElementById("share-link");
    var status = document.getElementById("copy-status");
    function selectLink() { input.focus(); input.select(); }
    function say(text) { status.textContent = text; }
    input.addEventListener("focus", function () { input.select(); });
    button.hidden = false;
    button.addEventListener("click", function () {
      say("");
      if (!navigator.clipboard || !window.isSecureContext) {
        selectLink();
        say(button.dataset.failed);
        return;
      }
      navigator.clipboard.writeText(input.value).then(
        function () { say(button.dataset.copied); },
        function () { selectLink(); say(button.dataset.failed); }
      );
    });
  }

  var form = document.getElementById("share-form");
  if (form) { shareWindow(form); }
  var copy = document.getElementById("copy-link");
  if (copy) { copyLink(copy); }
})();
