/**
 * Drawing attention on canvases: a matrix as a heat map (rows queries,
 * columns keys, with optional labels), and a patch grid of weights
 * overlaid on a grey image.
 */

/** The colour of a weight in [0, 1] on a white-to-dark-red scale. */
function heat(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v));
  return [255 - 80 * x, 255 - 235 * x, 255 - 225 * x];
}

/** Values scaled to [0, 1] from their minimum to their maximum, for contrast (all equal: all 0). */
export function normalised(values: ArrayLike<number>): Float64Array {
  let [min, max] = [Infinity, -Infinity];
  for (let i = 0; i < values.length; i++) [min, max] = [Math.min(min, values[i]!), Math.max(max, values[i]!)];
  return Float64Array.from(values as ArrayLike<number>, (v) => (max > min ? (v - min) / (max - min) : 0));
}

/** Options of drawMatrix. */
export interface MatrixLabels {
  readonly rows?: readonly string[];
  readonly cols?: readonly string[];
}

/** Draws a [rows, cols] matrix of probabilities (row-major) as a heat map, each cell `cell` pixels, labels on the left and top. */
export function drawMatrix(canvas: HTMLCanvasElement, m: ArrayLike<number>, rows: number, cols: number, labels: MatrixLabels = {}, cell = 16): void {
  const margin = labels.rows || labels.cols ? 20 : 0;
  canvas.width = margin + cols * cell;
  canvas.height = margin + rows * cell;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [red, green, blue] = heat(m[r * cols + c]!);
      g.fillStyle = `rgb(${red | 0},${green | 0},${blue | 0})`;
      g.fillRect(margin + c * cell, margin + r * cell, cell - 1, cell - 1);
    }
  }
  g.fillStyle = '#333';
  g.font = '11px monospace';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  labels.cols?.forEach((l, c) => g.fillText(l, margin + c * cell + cell / 2, margin / 2));
  labels.rows?.forEach((l, r) => g.fillText(l, margin / 2, margin + r * cell + cell / 2));
}

/** Draws a grey image [rows, cols] (bytes) scaled by `scale`, with a `grid`×`grid` map of weights in [0, 1] over it in red. */
export function drawOverlay(canvas: HTMLCanvasElement, pixels: Uint8Array, size: number, weights: ArrayLike<number> | undefined, grid: number, scale = 4): void {
  canvas.width = canvas.height = size * scale;
  const g = canvas.getContext('2d')!;
  const patch = size / grid;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = pixels[y * size + x]!;
      // At most 70% red, so the image stays visible under the most attended patch.
      const w = weights ? 0.7 * weights[Math.floor(y / patch) * grid + Math.floor(x / patch)]! : 0;
      // The image in grey, tinted red where the weight is high.
      g.fillStyle = `rgb(${Math.round(p * (1 - w) + 255 * w)},${Math.round(p * (1 - w))},${Math.round(p * (1 - w))})`;
      g.fillRect(x * scale, y * scale, scale, scale);
    }
  }
}

/** Draws a grey image [size, size] of bytes at `scale` (a thumbnail or the drawing pad). */
export function drawImage(canvas: HTMLCanvasElement, pixels: Uint8Array, size: number, scale: number): void {
  drawOverlay(canvas, pixels, size, undefined, 1, scale);
}
