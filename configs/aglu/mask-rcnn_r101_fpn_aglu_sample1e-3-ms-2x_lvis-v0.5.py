# mask-rcnn_r50_fpn_aglu_sample1e-3-ms-2x_lvis-v0.5 (an ltmm extension) with the official R101 recipe's changes
# (`aglu_r101_model` of ./_base_/aglu_model.py), as the LVIS v1 R101 config.
_base_ = './mask-rcnn_r50_fpn_aglu_sample1e-3-ms-2x_lvis-v0.5.py'
model = {{_base_.aglu_r101_model}}
