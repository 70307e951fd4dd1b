// The lesson page's entry: the lesson over HTTP, its state in the address bar.

import { mount } from "./lesson.js";

// A refusal carries the server's words and problems (gdlab.web._models.refusal), as the lab's do.
async function answer(response) {
  if (response.ok) return response.json();
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status line is the one problem
  }
  const detail = body?.detail || `${response.status} ${response.statusText}`;
  const err = new Error(detail);
  err.detail = detail;
  err.status = response.status;
  err.problems = body?.problems || [{ field: null, text: detail, rule: null, limit: null }];
  throw err;
}

const http = {
  contents: async (lang) => answer(await fetch(`/api/lesson?lang=${lang}`)),
  live: async (key, settings, lang) =>
    answer(
      await fetch(`/api/lesson/${encodeURIComponent(key)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ settings, lang }),
      }),
    ),
  notebook: (lang) => ({ href: `/api/lesson/notebook?lang=${lang}` }),
};

globalThis.gdlabLesson = mount(document.getElementById("lesson"), http, { useURL: true });
