// dophu web pages: a little plain JavaScript; every page also works without it.
(function () {
  "use strict";

  // Filter chips apply at once: a changed checkbox/select/date submits its form.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target && target.matches("input[type=checkbox], select, input[type=date]")) {
        var page = form.querySelector("input[name=page]");
        if (page) { page.remove(); }
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    });
  });

  // Buttons that change something ask once (rejecting a tag, asking for a crawl).
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Empty fields are left out of GET forms, so that shared links stay short.
  document.querySelectorAll("form[method=get]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (field.value === "" && !field.disabled) { field.disabled = true; }
      });
      window.setTimeout(function () {
        form.querySelectorAll("[name]:disabled").forEach(function (f) { f.disabled = false; });
      }, 0);
    });
  });
})();
