/** Canvas sizing shared by the page's drawings. */

/**
 * Sizes a canvas's backing store to its CSS box times the device pixel ratio (only when that
 * changed), and returns a cleared 2D context that draws in CSS pixels, with the box's size; or
 * undefined while the canvas is not laid out.
 */
export function sizeCanvas(
  canvas: HTMLCanvasElement,
): { g: CanvasRenderingContext2D; width: number; height: number } | undefined {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width || !height) return undefined;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return undefined;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  return { g, width, height };
}
