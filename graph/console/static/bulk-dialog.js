// The "Bulk registration" dialog: a CSV file read in the browser, its text sent to
// registerCsv, and the per-line report. The registered devices reach the table through
// registrationEvents, like every other change.

import { h, uniqueId } from "./dom.js";

// Beyond this many lines the report lists the failed lines only (the created ones are
// counted), so a file of 100,000 devices does not build 100,000 table rows.
export const REPORT_ALL_LINES = 1000;

/** The file's text; refuses what is not UTF-8 instead of replacing what cannot be read. */
async function readText(file) {
  const bytes = await file.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes); // drops a byte order mark
  } catch {
    throw new Error(`${file.name} is not UTF-8 text: save it as CSV UTF-8 and upload it again.`);
  }
}

function plural(count, one, many) {
  return `${count.toLocaleString("en")} ${count === 1 ? one : many}`;
}

function reportRow(line) {
  return h("tr", { class: line.problem ? "failed" : "created" },
    h("td", { class: "line" }, line.line),
    h("td", { class: "device-id" }, line.id ?? ""),
    h("td", {}, line.problem ? line.problem.message : "Created"));
}

/** Open the dialog; ``onUploaded(result)`` after each file the server read. */
export function openBulkDialog({ api, session, onUploaded }) {
  const fileId = uniqueId("bulk");
  const hintId = `${fileId}-hint`;
  const file = h("input", {
    id: fileId, type: "file", name: "csv", accept: ".csv,.txt,text/csv,text/plain",
    "aria-describedby": hintId,
  });
  const mayNameTenant = session.tenantId === "management" && session.can("TENANT_MANAGEMENT_ADMIN");
  const hint = h("small", { id: hintId, class: "hint" },
    "The first line names the columns: ID (required), PATH (a group path such as ",
    "Building 7/Floor 2, created where missing)",
    mayNameTenant ? ", TENANT (a subtenant)" : "",
    ", separated by semicolons, commas or tabs. Each line is registered on its own; ",
    "the header is line 1.");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const summary = h("p", { class: "info", role: "status", hidden: true });
  const note = h("p", { class: "hint", hidden: true });
  const tbody = h("tbody");
  const report = h("table", { class: "report", "aria-label": "Report", hidden: true },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Line"),
      h("th", { scope: "col" }, "Device ID"),
      h("th", { scope: "col" }, "Result"))),
    tbody);
  const upload = h("button", { type: "submit", class: "primary" }, "Upload");

  function showError(message) {
    error.textContent = message ?? "";
    error.hidden = !message;
  }

  function showReport(result) {
    summary.textContent = `${plural(result.created, "device", "devices")} created, ` +
      `${plural(result.failed, "line", "lines")} failed.`;
    summary.hidden = false;
    let lines = result.lines;
    if (lines.length > REPORT_ALL_LINES) {
      lines = lines.filter((line) => line.problem).slice(0, REPORT_ALL_LINES);
      note.textContent = result.failed > lines.length
        ? `The first ${plural(lines.length, "failed line", "failed lines")} of ` +
          `${result.failed.toLocaleString("en")} are listed.`
        : "The failed lines are listed; every other line was created.";
      note.hidden = false;
    } else {
      note.hidden = true;
    }
    tbody.replaceChildren(...lines.map(reportRow));
    report.hidden = lines.length === 0;
  }

  async function submit(event) {
    event.preventDefault();
    showError(null);
    const chosen = file.files[0];
    if (!chosen) {
      showError("Choose a CSV file.");
      file.focus();
      return;
    }
    upload.disabled = true;
    try {
      const result = await api.registerCsv(await readText(chosen));
      showReport(result);
      onUploaded(result);
    } catch (failure) {
      // The file as a whole was refused (not CSV, no ID column, ...): nothing registered.
      summary.hidden = true;
      note.hidden = true;
      report.hidden = true;
      showError(failure.message);
    } finally {
      upload.disabled = false;
    }
  }

  const dialog = h("dialog", { class: "bulk", "aria-labelledby": "bulk-title" },
    h("form", { onsubmit: submit },
      h("h2", { id: "bulk-title" }, "Bulk registration"),
      h("div", { class: "field" }, h("label", { for: fileId }, "CSV file"), file, hint),
      error,
      summary,
      note,
      h("div", { class: "report-scroll" }, report),
      h("div", { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Close"),
        upload)));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  file.focus();
  return dialog;
}
