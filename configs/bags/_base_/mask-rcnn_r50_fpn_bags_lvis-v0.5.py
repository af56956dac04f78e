# BAGS on LVIS v0.5 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v0.5.py with BalancedGroupSoftmaxLoss
# (groups by training instance count < 10 / < 100 / < 1000 / >= 1000, 8 "others" per positive RoI; official), the
# official single-scale 1333 x 800 training and test score threshold 1e-3 (FishYuLi/BalancedGroupSoftmax
# configs/bags/gs_mask_rcnn_r50_fpn_1x_lvis.py). The LVIS v0.5 configs of this folder pair it with ./bags_stage2_1x.py.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v0.5.py'
model = dict(
    roi_head=dict(bbox_head=dict(loss_cls=dict(
        _delete_=True, type='BalancedGroupSoftmaxLoss', num_classes={{_base_.num_classes}},
        class_stats={{_base_.class_stats}}, bin_edges=(10, 100, 1000), others_sample_ratio=8.0))),
    test_cfg=dict(rcnn=dict(score_thr=0.001)))
# the official training resizes to 1333 x 800 (no multi-scale); the rest of the pipeline as the base
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]))
