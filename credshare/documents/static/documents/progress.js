// The bulk issuance page: polls the job's progress about every second and updates the
// progress bar and the figures; reloads the page once the job is done (for the report link).
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job || job.dataset.finished === "1") return;
  var bar = document.getElementById("job-progress");
  var refresh = document.getElementById("job-refresh");
  if (refresh) refresh.hidden = true;

  function show(progress) {
    bar.max = progress.total || 1;
    bar.value = progress.done;
    job.querySelectorAll("[data-field]").forEach(function (element) {
      var value = progress[element.dataset.field];
      if (value !== undefined && value !== null) element.textContent = String(value);
    });
  }

  function poll() {
    fetch(job.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.finished) {
          window.location.reload();
        } else if (progress.status === "failed") {
          if (refresh) refresh.hidden = false;
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        if (refresh) refresh.hidden = false;
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
