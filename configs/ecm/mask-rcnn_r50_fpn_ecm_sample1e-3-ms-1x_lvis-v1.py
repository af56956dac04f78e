# ECM (Cho and Krähenbühl, ECCV 2022): sigmoid loss over C+1 logits with effective class-margins from the instance
# counts. Mask R-CNN R50-FPN, LVIS v1, repeat factor sampling (t = 1e-3), multi-scale 640-800, 1x (12 epochs, steps
# 8 / 11), 8 GPUs x 2 images, 10,000-iteration warm-up, gradient clipping at 5. Model, data and method:
# ./_base_/mask-rcnn_r50_fpn_ecm_lvis-v1.py; optimisation: ./_base_/lvis_1x_ecm.py.
_base_ = ['./_base_/mask-rcnn_r50_fpn_ecm_lvis-v1.py', './_base_/lvis_1x_ecm.py']
