# BAGS (Li et al., CVPR 2020), stage 2: balanced group softmax classifier re-trained on a softmax Mask R-CNN
# R50-FPN baseline, LVIS v1, uniform image sampling, single-scale 1333 x 800, 1x (12 epochs) of fc_cls only, 8 GPUs x
# 2 images, test score threshold 1e-3. Model, data and method: ./_base_/mask-rcnn_r50_fpn_bags_lvis-v1.py;
# optimisation and freezing: ./_base_/bags_stage2_1x.py. The new fc_cls (C + 6 columns) does not match the
# baseline's (C + 1), so mmengine keeps its Normal(0, 0.01) init, as the official run.
# Train the baseline first (../lvis/mask-rcnn_r50_fpn_ce_random-ms-1x_lvis-v1.py), then
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/mask-rcnn_r50_fpn_bags_lvis-v1.py', './_base_/bags_stage2_1x.py']
load_from = 'work_dirs/mask-rcnn_r50_fpn_ce_random-ms-1x_lvis-v1/epoch_12.pth'
