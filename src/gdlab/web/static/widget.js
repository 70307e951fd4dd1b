// The notebook widget's entry (anywidget): the same lab, computing in the kernel.
// gdlab.web._widget joins plotly.js, i18n.js, lab.js, kernel.js and this file into one module.

import { kernel } from "./kernel.js";
import { mount } from "./lab.js";

function bridge(model) {
  const { answer, ask } = kernel(model);
  return { answer, backend: { call: ask, download: (payload, kind = "export") => ask(kind, payload) } };
}

export default {
  render({ model, el }) {
    const { answer, backend } = bridge(model);
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
