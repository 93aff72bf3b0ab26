"""Writes a folder of realistic JPEGs for the input-pipeline benchmark:
<out>/<class>/<n>.jpg, 4 classes x 50 images, cut from scikit-learn's two sample
photos (china.jpg, flower.jpg, 427x640) by random crops (30-100% of each side),
resized so the longer side is 300-500 px (about ImageNet's typical size),
randomly mirrored, saved at quality 80-95. Seeded: the same files every run.

    /usr/bin/python3 make_jpegs.py [out=/tmp/graft_io_bench_jpegs] [count=200]
"""
import os
import random
import sys

from PIL import Image
from sklearn.datasets import load_sample_images


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/graft_io_bench_jpegs"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    photos = [Image.fromarray(a) for a in load_sample_images().images]
    rng = random.Random(0)
    classes = ["cls_a", "cls_b", "cls_c", "cls_d"]
    for c in classes:
        os.makedirs(os.path.join(out, c), exist_ok=True)
    for i in range(count):
        photo = photos[i % len(photos)]
        w, h = photo.size
        cw, ch = int(w * rng.uniform(0.3, 1.0)), int(h * rng.uniform(0.3, 1.0))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        img = photo.crop((x, y, x + cw, y + ch))
        scale = rng.uniform(300, 500) / max(cw, ch)
        img = img.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.BILINEAR)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img.save(os.path.join(out, classes[i % len(classes)], f"{i:04d}.jpg"), quality=rng.randint(80, 95))
    print(f"wrote {count} JPEGs under {out}")


if __name__ == "__main__":
    main()
