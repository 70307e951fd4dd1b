// The page's entry: the lab over HTTP, its state in the address bar.

import { mount } from "./lab.js";

class LabError extends Error {
  constructor(detail, status) {
    super(detail);
    this.detail = detail;
    this.status = status;
  }
}

async function post(name, payload) {
  const response = await fetch(`/api/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      // not JSON: keep the status line
    }
    throw new LabError(detail, response.status);
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
