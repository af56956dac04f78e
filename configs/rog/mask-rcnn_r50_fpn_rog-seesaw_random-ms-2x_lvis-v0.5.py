# mask-rcnn_r50_fpn_rog-seesaw_random-ms-1x_lvis-v0.5 with the 2x schedule (24 epochs): its model, data and method
# base on ./_base_/lvis_2x_rog.py. The R101 and RFS 2x variants inherit this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_rog-seesaw_lvis-v0.5.py', './_base_/lvis_2x_rog.py']
