# A small Mask R-CNN trained from scratch on LT-Shapes: the `make demo` detector, sized to train on 2 CPU cores in
# minutes. Same mmdet Mask R-CNN as the LVIS configs, with a narrow ResNet-18 (base width 16) and a 64-channel FPN.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/lt_shapes_instance.py',
    '../_base_/schedules/lt_shapes_4e.py',
]
num_classes = 30
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64,
                  anchor_generator=dict(scales=[4])),  # objects are 16-52 px: anchors of 16-256 px
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=num_classes),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=num_classes)),
    # a few objects per 128 px image: fewer proposals and sampled RoIs than for COCO keep CPU training fast
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300), rcnn=dict(sampler=dict(num=64))),
    # LVIS protocol keeps low-scoring detections (score_thr 1e-4); LT-Shapes images hold at most 7 objects, so
    # 100 detections per image (LVIS allows 300) lose nothing and keep mask pasting on the CPU fast
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=300), rcnn=dict(score_thr=0.0001, max_per_img=100)))
