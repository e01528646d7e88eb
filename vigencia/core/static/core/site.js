// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // The language select submits itself on change, so its button is only needed without JavaScript.
  document.querySelectorAll("select.js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
  document.querySelectorAll(".js-hide").forEach((element) => {
    element.hidden = true;
  });
  // On a phone the menu scrolls sideways: show where the reader is.
  const current = document.querySelector(".site-nav [aria-current]");
  if (current) current.scrollIntoView({ block: "nearest", inline: "nearest" });
});
