# ROG (Zhang et al., ICCV 2023): sigmoid CE with an objectness logit plus the global ranking loss_rank; official
# recipe: 4 images/GPU, grad clip 5, warm-up ratio 1e-4. Mask R-CNN R50-FPN, LVIS v0.5, uniform image sampling,
# multi-scale 640-800, 1x (12 epochs). Model, data and method: ./_base_/mask-rcnn_r50_fpn_rog_lvis-v0.5.py (the 2x
# config pairs it with the 2x schedule instead); the R101 and RFS 1x variants inherit this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_rog_lvis-v0.5.py', './_base_/lvis_1x_rog.py']
