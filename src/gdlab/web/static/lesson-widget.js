// The lesson's notebook widget entry (anywidget): the same lesson, computing in the kernel.
// gdlab.web._widget joins plotly.js, lesson.js and this file into one module.

import { mount } from "./lesson.js";

function kernel(model) {
  const pending = new Map();
  let next = 0;
  const answer = (msg, buffers) => {
    const waiting = pending.get(msg.id);
    if (!waiting) return;
    pending.delete(msg.id);
    if (!msg.ok) waiting.reject(new Error(msg.detail));
    else if (msg.file) waiting.resolve({ blob: new Blob([buffers[0]], { type: msg.media }), name: msg.name });
    else waiting.resolve(msg.result);
  };
  const ask = (name, payload) => new Promise((resolve, reject) => {
    next += 1;
    pending.set(next, { resolve, reject });
    model.send({ id: next, name, payload });
  });
  const save = async (lang) => {
    const { blob, name } = await ask("notebook", { lang });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };
  return {
    answer,
    backend: {
      contents: (lang) => ask("contents", { lang }),
      live: (key, settings, lang) => ask("live", { key, settings, lang }),
      notebook: (lang) => ({ onclick: () => save(lang) }),
    },
  };
}

export default {
  render({ model, el }) {
    const { answer, backend } = kernel(model);
    model.on("msg:custom", answer);
    const box = document.createElement("div");
    el.append(box);
    mount(box, backend, {
      query: model.get("state"),
      onState: (query) => {
        model.set("state", query);
        model.save_changes();
      },
    });
    return () => model.off("msg:custom", answer);
  },
};
