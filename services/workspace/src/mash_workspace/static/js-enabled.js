// GOV.UK Frontend's "JavaScript is on" switch, from a file so the CSP allows no inline script.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
