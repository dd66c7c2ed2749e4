package org.mnistdeploy.demo;

import android.content.Context;
import android.graphics.Bitmap;
import android.graphics.Canvas;
import android.graphics.Color;
import android.graphics.Paint;
import android.graphics.Path;
import android.view.MotionEvent;
import android.view.View;

/** White strokes on black, like MNIST; hands the drawing to core.Preprocess as gray pixels. */
final class DrawView extends View {
    interface OnStroke { void done(); }

    private final Paint ink = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Path path = new Path();
    private Bitmap bitmap;
    private Canvas canvas;
    private OnStroke onStroke = () -> {};

    DrawView(Context c) {
        super(c);
        ink.setColor(Color.WHITE);
        ink.setStyle(Paint.Style.STROKE);
        ink.setStrokeCap(Paint.Cap.ROUND);
        ink.setStrokeJoin(Paint.Join.ROUND);
    }

    void setOnStroke(OnStroke s) { onStroke = s; }

    @Override
    protected void onSizeChanged(int w, int h, int oldW, int oldH) {
        bitmap = Bitmap.createBitmap(w, h, Bitmap.Config.ARGB_8888);
        canvas = new Canvas(bitmap);
        ink.setStrokeWidth(w / 20f);  // same stroke/width ratio as the web demo's canvas
        clear();
    }

    void clear() {
        if (canvas != null) canvas.drawColor(Color.BLACK);
        invalidate();
    }

    @Override
    protected void onDraw(Canvas c) {
        if (bitmap != null) c.drawBitmap(bitmap, 0, 0, null);
    }

    /** False until the first layout has made the bitmap: touches and reads wait for it. */
    boolean isReady() { return canvas != null; }

    @Override
    public boolean onTouchEvent(MotionEvent e) {
        if (!isReady()) return false;
        switch (e.getActionMasked()) {
            case MotionEvent.ACTION_DOWN:
                path.reset();
                path.moveTo(e.getX(), e.getY());
                path.lineTo(e.getX(), e.getY());
                break;
            case MotionEvent.ACTION_MOVE:
                path.lineTo(e.getX(), e.getY());
                break;
            case MotionEvent.ACTION_UP:
                canvas.drawPath(path, ink);
                invalidate();
                performClick();  // accessibility services see a tap as a click
                onStroke.done();
                return true;
            default:
                return false;
        }
        canvas.drawPath(path, ink);
        invalidate();
        return true;
    }

    @Override
    public boolean performClick() {
        return super.performClick();
    }

    int width() { return bitmap.getWidth(); }

    int height() { return bitmap.getHeight(); }

    /** The drawing as 0..255 gray values, row-major (the red channel: the ink is white). */
    int[] gray() {
        int[] px = new int[bitmap.getWidth() * bitmap.getHeight()];
        bitmap.getPixels(px, 0, bitmap.getWidth(), 0, 0, bitmap.getWidth(), bitmap.getHeight());
        for (int k = 0; k < px.length; k++) px[k] = Color.red(px[k]);
        return px;
    }
}
