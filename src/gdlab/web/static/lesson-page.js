// The lesson page's entry: the lesson over HTTP, its state in the address bar.

import { mount } from "./lesson.js";

async function answer(response) {
  if (response.ok) return response.json();
  let detail = `${response.status} ${response.statusText}`;
  try {
    detail = (await response.json()).detail || detail;
  } catch {
    // not JSON: keep the status line
  }
  throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
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
