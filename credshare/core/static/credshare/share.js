// The share window: filter the directory, fetch the chosen organization's extra fields,
// and keep a second click from sending the form twice (the server is idempotent anyway).
(function () {
  "use strict";
  var form = document.getElementById("share-form");
  if (!form) { return; }

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
  form.addEventListener("change", function (event) {
    if (event.target.name !== "recipient" || !extra) { return; }
    var url = extra.dataset.url + "?recipient=" + encodeURIComponent(event.target.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { extra.innerHTML = html; });
  });

  var submitted = false;
  form.addEventListener("submit", function (event) {
    if (submitted) { event.preventDefault(); return; }
    submitted = true;
    document.getElementById("share-submit").setAttribute("aria-disabled", "true");
  });
})();
