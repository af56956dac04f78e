# Seesaw loss (Wang et al., CVPR 2021), mmdet's own SeesawLoss and NormedLinear(tau=20), as in mmdet
# configs/seesaw_loss. Mask R-CNN R50-FPN, LVIS v0.5, uniform image sampling, multi-scale 640-800, 1x (12 epochs).
# Model, data and method: ./_base_/mask-rcnn_r50_fpn_seesaw-loss_lvis-v0.5.py (the 2x config pairs it with the 2x
# schedule instead); the R101 and RFS 1x variants inherit this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_seesaw-loss_lvis-v0.5.py', '../_base_/schedules/lvis_1x.py']
