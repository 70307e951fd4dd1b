// The notebook widget's entry (anywidget): the same lab, computing in the kernel.
// gdlab.web._widget joins plotly.js, i18n.js, lab.js and this file into one module.

import { mount } from "./lab.js";

function kernel(model) {
  const pending = new Map();
  let next = 0;
  const answer = (msg, buffers) => {
    const waiting = pending.get(msg.id);
    if (!waiting) return;
    pending.delete(msg.id);
    if (!msg.ok) {
      const err = new Error(msg.detail);
      err.detail = msg.detail;
      err.status = msg.status;
      waiting.reject(err);
    } else if (msg.file) {
      waiting.resolve({ blob: new Blob([buffers[0]], { type: msg.media }), name: msg.name });
    } else {
      waiting.resolve(msg.result);
    }
  };
  const ask = (name, payload) => new Promise((resolve, reject) => {
    next += 1;
    pending.set(next, { resolve, reject });
    model.send({ id: next, name, payload });
  });
  return { answer, backend: { call: ask, download: (payload, kind = "export") => ask(kind, payload) } };
}

export default {
  render({ model, el }) {
    const { answer, backend } = kernel(model);
    model.on("msg:custom", answer);
    const box = document.createElement("div");
    box.tabIndex = 0;
    el.append(box);
    mount(box, backend, {
      state: model.get("state"),
      onState: (state) => {
        model.set("state", JSON.parse(JSON.stringify(state)));
        model.save_changes();
      },
    });
    return () => model.off("msg:custom", answer);
  },
};
