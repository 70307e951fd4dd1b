// The page's entry: the lab over HTTP, its state in the address bar.

import { mount } from "./lab.js";

// A refusal as the server sends it (gdlab.web._models.refusal): its words, and its problems as data.
class LabError extends Error {
  constructor(detail, status, problems) {
    super(detail);
    this.detail = detail;
    this.status = status;
    this.problems = problems;
  }
}

async function post(name, payload) {
  const response = await fetch(`/api/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON (a proxy's page): the status line is the one problem
    }
    const detail = body?.detail || `${response.status} ${response.statusText}`;
    const problems = body?.problems || [{ field: null, text: detail, rule: null, limit: null }];
    throw new LabError(detail, response.status, problems);
  }
  return response;
}

const http = {
  async call(name, payload) {
    return (await post(name, payload)).json();
  },
  async download(payload, kind = "export") {
    const response = await post(kind, payload);
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `gdlab.${payload.format}`;
    return { blob: await response.blob(), name };
  },
};

globalThis.gdlabLab = mount(document.getElementById("lab"), http, { useURL: true, keyTarget: document });
