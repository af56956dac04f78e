# Equalization Loss v1 (Tan et al., CVPR 2020): C sigmoid logits, tail negatives masked for foreground RoIs. Mask
# R-CNN R50-FPN, LVIS v1, uniform image sampling, multi-scale 640-800, 1x (12 epochs). Model, data and method:
# ./_base_/mask-rcnn_r50_fpn_eql_lvis-v1.py (the 2x config pairs it with the 2x schedule instead); the R101 and RFS 1x
# variants inherit this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_eql_lvis-v1.py', '../_base_/schedules/lvis_1x.py']
