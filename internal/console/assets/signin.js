import { api, showError } from "./api.js";

const form = document.getElementById("sign-in");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  document.getElementById("error").hidden = true;
  try {
    await api("POST", "/api/v1/auth/sign-in", {
      email: form.elements.email.value, password: form.elements.password.value,
    });
    const next = new URLSearchParams(location.search).get("next");
    // Only a path of this origin: never a redirect elsewhere.
    location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
  } catch (err) {
    showError(err);
    form.elements.password.value = "";
    form.elements.password.focus();
  }
});
