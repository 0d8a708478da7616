/**
 * Two spirals, trained live: after every few epochs the page asks the network for the class
 * probabilities over a 100 × 100 grid and paints them behind the data points.
 *
 *   npx vite -c examples/vite.config.ts      then open /spirals/
 *
 * `?rounds=N` sets how many rounds of 5 epochs to train (default 40).
 */
import { createMLP } from 'webgpu-mlp';

const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
const status = document.querySelector<HTMLElement>('#status')!;
const accuracyOut = document.querySelector<HTMLOutputElement>('#accuracy')!;
const rounds = Number(new URLSearchParams(location.search).get('rounds') ?? 40);

/** Two interleaved spirals of n points in [-1, 1]², with a little noise; class = spiral. */
function spirals(n: number, turns = 1.25): { x: Float32Array; y: Uint32Array } {
  const x = new Float32Array(n * 2);
  const y = new Uint32Array(n);
  let seed = 1;
  const noise = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0; // a small LCG: the same data on every run
    return (seed / 2 ** 32 - 0.5) * 0.04;
  };
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const f = Math.floor(i / 2) / (n / 2);
    const angle = f * turns * 2 * Math.PI + c * Math.PI;
    const radius = 0.1 + 0.85 * f;
    x[2 * i] = radius * Math.cos(angle) + noise();
    x[2 * i + 1] = radius * Math.sin(angle) + noise();
    y[i] = c;
  }
  return { x, y };
}

const GRID = 100;
/** The grid's points, row by row from the top left, as [GRID², 2] inputs. */
const grid = new Float32Array(GRID * GRID * 2);
for (let i = 0; i < GRID * GRID; i++) {
  grid[2 * i] = ((i % GRID) + 0.5) / (GRID / 2) - 1;
  grid[2 * i + 1] = 1 - (Math.floor(i / GRID) + 0.5) / (GRID / 2);
}

const BLUE = [66, 133, 244];
const ORANGE = [251, 140, 0];

function draw(probabilities: Float32Array, x: Float32Array, y: Uint32Array): void {
  const background = new ImageData(GRID, GRID);
  for (let i = 0; i < GRID * GRID; i++) {
    const p = probabilities[2 * i + 1]; // probability of class 1
    for (let k = 0; k < 3; k++)
      background.data[4 * i + k] = 255 - (1 - p) * (255 - BLUE[k]) * 0.6 - p * (255 - ORANGE[k]) * 0.6;
    background.data[4 * i + 3] = 255;
  }
  const small = new OffscreenCanvas(GRID, GRID);
  small.getContext('2d')!.putImageData(background, 0, 0);
  const g = canvas.getContext('2d')!;
  g.drawImage(small, 0, 0, canvas.width, canvas.height);
  for (let i = 0; i < y.length; i++) {
    const [r, gr, b] = y[i] === 1 ? ORANGE : BLUE;
    g.fillStyle = `rgb(${r} ${gr} ${b})`;
    g.beginPath();
    g.arc(((x[2 * i] + 1) / 2) * canvas.width, ((1 - x[2 * i + 1]) / 2) * canvas.height, 1.5, 0, 2 * Math.PI);
    g.fill();
  }
}

// #region train-and-plot
async function main(): Promise<void> {
  const { x, y } = spirals(400);
  const mlp = await createMLP({ layers: [2, 32, 32, 2], activation: 'relu', seed: 1 });
  status.dataset.state = 'training';
  try {
    for (let round = 0; round < rounds; round++) {
      const epochs = await mlp.fit(x, y, { epochs: 5, batchSize: 64, learningRate: 0.02, seed: round });
      const last = epochs[epochs.length - 1];
      draw(await mlp.predict(grid), x, y);
      status.textContent = `Epoch ${(round + 1) * 5}: loss ${last.trainLoss.toFixed(3)}`;
      accuracyOut.textContent = `${(last.trainAccuracy * 100).toFixed(1)}% (training)`;
    }
    const { accuracy } = await mlp.evaluate(x, y);
    accuracyOut.textContent = `${(accuracy * 100).toFixed(1)}%`;
    accuracyOut.dataset.value = String(accuracy);
    status.textContent = `Done: ${rounds * 5} epochs`;
    status.dataset.state = 'done';
  } finally {
    await mlp.destroy();
  }
}
// #endregion

main().catch((error: unknown) => {
  status.textContent = `Failed: ${error instanceof Error ? error.message : String(error)}`;
  status.dataset.state = 'failed';
  console.error(error);
});
