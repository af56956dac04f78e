# mask-rcnn_r50_fpn_eqlv2_random-ms-1x_lvis-v1 with the 2x schedule (24 epochs): its model, data and method base on
# ../_base_/schedules/lvis_2x.py. The R101 and RFS 2x variants inherit this file.
_base_ = ['./_base_/mask-rcnn_r50_fpn_eqlv2_lvis-v1.py', '../_base_/schedules/lvis_2x.py']
