# BAGS on the LT-Shapes demo (CPU, minutes), stage 2: the demo detector (../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py,
# trained first) is loaded and only its classifier, now BalancedGroupSoftmaxLoss's C + 6 columns, trains, over the
# demo's own schedule; BatchNorm keeps the stage-1 statistics (norm_eval, as mmdet's LVIS ResNet). LT-Shapes has 2 to
# 279 instances per class: groups < 10 / < 30 / < 100 / >= 100 give four groups of 6-10 classes, as the official
# < 10 / < 100 / < 1000 / >= 1000 do on LVIS (the official edges would leave the last group empty here).
# python tools/train.py configs/demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py; python tools/train.py THIS_CONFIG
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(
    backbone=dict(norm_eval=True),
    roi_head=dict(bbox_head=dict(loss_cls=dict(
        _delete_=True, type='BalancedGroupSoftmaxLoss', num_classes=30, bin_edges=(10, 30, 100),
        others_sample_ratio=8.0, class_stats='data/lt_shapes/annotations/lt_shapes_train.json'))),
    test_cfg=dict(rcnn=dict(score_thr=0.001)))  # official
load_from = 'work_dirs/mask-rcnn_r18-tiny_fpn_lt-shapes/epoch_4.pth'
custom_hooks = [dict(type='FreezeAllButHook', trainable=('roi_head.bbox_head.fc_cls',))]
