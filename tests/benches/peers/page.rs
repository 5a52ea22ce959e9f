//! The one page script every client is measured with: it reads the
//! workload's clock cells from whatever the client draws into (Tandem's
//! `<video>`, noVNC's and xpra's `<canvas>`), each time a new frame can be
//! shown, and notes the wall clock when a new clock value appears.

/// Installs the sampler on `arguments[0]` (a CSS selector) with, if
/// `arguments[1]` names one, a canvas drawn over it (Tandem's tiles);
/// answers whether the elements were found. Samples go to
/// `window.__bench`.
pub const INSTALL: &str = r#"
    const [selector, overlaySelector] = arguments;
    const el = document.querySelector(selector);
    if (!el) return false;
    const overlay = overlaySelector ? document.querySelector(overlaySelector) : null;
    if (overlaySelector && !overlay) return false;
    const CELL = 24, CELLS = 26;
    // The moving-region clock (see the workload): smaller cells, inside
    // the scrolled page in `scroll` and the moving field in `motion`.
    const MOVING_CELL = 16, MOVING_AT = [[240, 280], [1208, 608]];
    const c = document.createElement('canvas');
    c.width = CELL * CELLS; c.height = CELL;
    const g = c.getContext('2d', {willReadFrequently: true});
    const epoch = performance.timeOrigin;
    const bench = window.__bench = {samples: [], moving: [], keys: [], last: -1, movingLast: [-1, -1], errors: 0};
    window.addEventListener('keydown', e => bench.keys.push(epoch + e.timeStamp), true);
    const w = () => el.videoWidth || el.width, h = () => el.videoHeight || el.height;
    // The stamp of the strip of `cell`-sized cells at (x, y) of the
    // picture (with its overlay), or -1 without its white and black
    // reference cells.
    const stamp = (x, y, cell) => {
        const width = cell * CELLS;
        g.clearRect(0, 0, width, cell);
        g.drawImage(el, x, y, width, cell, 0, 0, width, cell);
        // The overlay has the picture's own size: same coordinates.
        if (overlay && overlay.width === w() && overlay.height === h())
            g.drawImage(overlay, x, y, width, cell, 0, 0, width, cell);
        const px = g.getImageData(0, 0, width, cell).data;
        const lum = i => { const o = ((cell >> 1) * width + i * cell + (cell >> 1)) * 4;
                           return px[o] + px[o + 1] + px[o + 2]; };
        const white = lum(0), black = lum(1);
        if (white - black < 200) return -1;
        const mid = (white + black) / 2;
        let value = 0;
        for (let i = 2; i < CELLS; i++) value = value * 2 + (lum(i) > mid ? 1 : 0);
        return value;
    };
    const read = (shownAt) => {
        if (!w() || !h()) return;
        try {
            const value = stamp(0, 0, CELL);
            if (value >= 0 && value !== bench.last) {
                bench.last = value;
                bench.samples.push([shownAt, value]);
            }
            MOVING_AT.forEach(([x, y], at) => {
                const moving = stamp(x, y, MOVING_CELL);
                if (moving >= 0 && moving !== bench.movingLast[at]) {
                    bench.movingLast[at] = moving;
                    bench.moving.push([shownAt, moving, at]);
                }
            });
        }
        catch (e) { bench.errors++; }
    };
    // A canvas drawn before this rendering step is composited in it, so
    // the step's start is when it is handed to the compositor. A video
    // frame's callback runs one step after that hand-over, which the
    // metadata names (`presentationTime`); the callback's own time would
    // add up to a frame that the canvas clients are not charged.
    bench.video = {frames: 0, receiveToPresent: 0, processing: 0, lateCallback: 0};
    if (overlay) {
        // Tiles are drawn on the overlay outside video frames: looked at
        // each rendering step, as the canvas clients are.
        const onStep = () => { read(epoch + performance.now()); requestAnimationFrame(onStep); };
        requestAnimationFrame(onStep);
    }
    if (el.requestVideoFrameCallback) {
        const onFrame = (now, meta) => {
            const v = bench.video;
            v.frames++;
            if (meta.receiveTime) v.receiveToPresent += meta.presentationTime - meta.receiveTime;
            if (meta.processingDuration) v.processing += meta.processingDuration * 1000;
            v.lateCallback += now - meta.presentationTime;
            read(epoch + meta.presentationTime);
            el.requestVideoFrameCallback(onFrame);
        };
        el.requestVideoFrameCallback(onFrame);
    } else {
        const onFrame = () => { read(epoch + performance.now()); requestAnimationFrame(onFrame); };
        requestAnimationFrame(onFrame);
    }
    return true;
"#;

/// Answers `[samples, keydown times, read errors, video frame timing,
/// moving-region samples]` and clears them. The timing (a `<video>` only) sums, over the frames
/// shown, receive → presentation (jitter buffer, decode, compositing) and
/// the decoder's processing time, from `requestVideoFrameCallback`.
pub const COLLECT: &str = r#"
    const b = window.__bench;
    if (!b) return null;
    const out = [b.samples, b.keys, b.errors, b.video, b.moving];
    b.samples = []; b.keys = []; b.moving = [];
    b.video = {frames: 0, receiveToPresent: 0, processing: 0, lateCallback: 0};
    return out;
"#;

/// Answers the text region `[x, y, w, h]` of the client's picture (with
/// its overlay, `arguments[5]`, if any) as 8-bit grey, base64 (the same
/// weights as the workload's source).
pub const TEXT_REGION: &str = r#"
    const [selector, x, y, w, h, overlaySelector] = arguments;
    const el = document.querySelector(selector);
    const overlay = overlaySelector ? document.querySelector(overlaySelector) : null;
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    g.drawImage(el, x, y, w, h, 0, 0, w, h);
    if (overlay && overlay.width === (el.videoWidth || el.width)) g.drawImage(overlay, x, y, w, h, 0, 0, w, h);
    const px = g.getImageData(0, 0, w, h).data;
    const grey = new Uint8Array(w * h);
    for (let i = 0; i < w * h; i++) {
        grey[i] = (px[i * 4] * 77 + px[i * 4 + 1] * 150 + px[i * 4 + 2] * 29) >> 8;
    }
    let s = '';
    for (let i = 0; i < grey.length; i += 0x8000) s += String.fromCharCode.apply(null, grey.subarray(i, i + 0x8000));
    return btoa(s);
"#;
