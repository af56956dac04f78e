# Federated loss (Zhou et al., CenterNet2 / detectron2): sigmoid CE over 50 classes per batch drawn by
# image_count^0.5. Mask R-CNN R50-FPN, LVIS v0.5, uniform image sampling, multi-scale 640-800, 1x (12 epochs). Model,
# data and method: ./_base_/mask-rcnn_r50_fpn_fed-loss_lvis-v0.5.py (the 2x config pairs it with the 2x schedule
# instead); the R101 and RFS 1x variants inherit this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_fed-loss_lvis-v0.5.py', '../_base_/schedules/lvis_1x.py']
