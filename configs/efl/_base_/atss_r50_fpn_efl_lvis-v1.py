# EFL's official "improved baseline" detector on LVIS v1 without a schedule, as close as mmdet's ATSS allows
# (ModelTC/EOD configs/det/efl/efl_improved_baseline_r50_2x_rfs.yaml, RetinaHeadWithIOU + ATSS assignment):
# ResNet-50 with stem and stage 1 frozen and frozen BN, FPN P3-P7 whose P6 is a stride-2 conv on the C5 lateral, a
# 4-conv GN(32) 256-channel head with 2 anchors per location (scales 6 and 8, ratio 1), ATSS with 18 candidates per
# level, GIoU box loss (weight 1), EqualizedFocalLoss (gamma_b 2, alpha 0.25, s 8) with the classifier bias at prior
# 0.001, and repeat factor sampling (t = 1e-3). Test: 800 px, top 6,000 per level, NMS 0.5, 300 per image. mmdet's
# ATSSHead predicts centerness where the official head predicts the IoU (score sigmoid(cls) * sigmoid(iou)): the
# one deviation of the detector. The LVIS v1 EFL ATSS configs pair it with ./lvis_2x_efl.py.
_base_ = './lvis-v1_detection.py'
model = dict(
    type='ATSS',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
                  norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, start_level=1,
              add_extra_convs='on_lateral', num_outs=5),
    bbox_head=dict(
        type='ATSSHead',
        num_classes={{_base_.num_classes}},
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], scales=[6, 8], strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0], target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type='EqualizedFocalLoss', num_classes={{_base_.num_classes}}, use_sigmoid=True,
                      focal_gamma=2.0, focal_alpha=0.25, scale_factor=8.0, num_levels=5, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        # official init_prior 0.001 (mmdet's ATSSHead default: 0.01)
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.01,
                      override=dict(type='Normal', name='atss_cls', std=0.01, bias_prob=0.001))),
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=18), allowed_border=-1, pos_weight=-1, debug=False),
    # LVIS protocol: keep low scores (official pre-NMS threshold 0), 300 detections per image
    test_cfg=dict(nms_pre=6000, min_bbox_size=0, score_thr=0.0001, nms=dict(type='nms', iou_threshold=0.5),
                  max_per_img=300))
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.train_dataloader.dataset}}))
