// The notebook widgets' bridge to the kernel (anywidget's custom messages): each request carries
// an id, and the kernel's answer (a result, a file, or a refusal with its words, problems and status)
// settles the promise of that id. The lab's widget and the lesson's both use it.

export function kernel(model) {
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
      err.problems = msg.problems; // as the server sends them: gdlab.web._models.refusal
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
  return { answer, ask };
}
