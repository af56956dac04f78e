# mask-rcnn_r50_fpn_ecm_sample1e-3-ms-1x_lvis-v1 with ECM's 2x schedule (24 epochs, lr x 0.1 at epochs 20 and 22):
# ./_base_/lvis_2x_ecm.py. The R101 config inherits this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_ecm_lvis-v1.py', './_base_/lvis_2x_ecm.py']
