// The lesson's notebook widget entry (anywidget): the same lesson, computing in the kernel.
// gdlab.web._widget joins plotly.js, lesson.js, kernel.js and this file into one module.

import { kernel } from "./kernel.js";
import { mount } from "./lesson.js";

function bridge(model) {
  const { answer, ask } = kernel(model);
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
    const { answer, backend } = bridge(model);
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
