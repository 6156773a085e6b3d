// The playbooks pages: a workflow drawing wider than its frame opens scrolled to its middle,
// where the start step is (progressive enhancement: without it the frame starts at the left).
document.addEventListener("DOMContentLoaded", () => {
  for (const frame of document.querySelectorAll(".pb-graph-frame")) {
    const extra = frame.scrollWidth - frame.clientWidth;
    if (extra > 0) frame.scrollLeft = extra / 2;
  }
});
